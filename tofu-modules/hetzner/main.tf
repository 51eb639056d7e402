# Hetzner Cloud: one private network, a firewall, k3s servers and a load balancer in front of the
# Kubernetes API (6443) and the ingress NodePorts (80 -> 31080, 443 -> 31443).
#
# A Hetzner project spans every location, so objects that must be unique per project (network,
# firewall, load balancer) carry the full cluster name; see README.md "Names".

locals {
  provider_name = "hetzner"

  network_zone = {
    fsn1 = "eu-central"
    nbg1 = "eu-central"
    hel1 = "eu-central"
    ash  = "us-east"
    hil  = "us-west"
  }[var.location]

  api_public_host   = hcloud_load_balancer.cluster.ipv4
  api_internal_host = local.lb_private_ip

  control_plane_public_ips = hcloud_server.control_plane[*].ipv4_address

  # Only the key material: the bootstrap script deletes this line from root's authorized_keys.
  revoked_ssh_key = split(" ", trimspace(tls_private_key.hetzner_placeholder.public_key_openssh))[1]
}

# Hetzner mails a root password for a server created without an ssh key, and refuses the same
# public key twice in one project — where both regions of a platform and their shared operator
# key live. So each cluster registers a throwaway key of its own, which the node deletes at first
# boot; the operator's key arrives through cloud-init.
resource "tls_private_key" "hetzner_placeholder" {
  algorithm = "ED25519"
}

resource "hcloud_ssh_key" "placeholder" {
  name       = "${var.cluster_name}-placeholder"
  public_key = tls_private_key.hetzner_placeholder.public_key_openssh
  labels     = local.labels
}

resource "hcloud_network" "cluster" {
  name     = "${var.cluster_name}-vpc"
  ip_range = var.network_cidr
  labels   = local.labels
}

resource "hcloud_network_subnet" "nodes" {
  network_id   = hcloud_network.cluster.id
  type         = "cloud"
  network_zone = local.network_zone
  ip_range     = local.subnet_cidr
}

# The WireGuard gateway (first control-plane node) receives the other region's ranges.
resource "hcloud_network_route" "mesh" {
  for_each    = toset(local.mesh_peer_cidrs)
  network_id  = hcloud_network.cluster.id
  destination = each.value
  gateway     = local.control_plane_ips[0]
  depends_on  = [hcloud_server.control_plane]
}

# Hetzner firewalls filter the public interface only; traffic inside the private network is open.
resource "hcloud_firewall" "nodes" {
  name   = "${var.cluster_name}-fw"
  labels = local.labels

  dynamic "rule" {
    for_each = length(var.ssh_allowed_cidrs) > 0 ? [1] : []
    content {
      description = "ssh"
      direction   = "in"
      protocol    = "tcp"
      port        = "22"
      source_ips  = var.ssh_allowed_cidrs
    }
  }

  rule {
    description = "kubernetes-api"
    direction   = "in"
    protocol    = "tcp"
    port        = "6443"
    source_ips  = var.api_allowed_cidrs
  }

  rule {
    description = "icmp"
    direction   = "in"
    protocol    = "icmp"
    source_ips  = ["0.0.0.0/0", "::/0"]
  }

  dynamic "rule" {
    for_each = var.wireguard == null ? [] : [var.wireguard.listen_port]
    content {
      description = "wireguard-mesh"
      direction   = "in"
      protocol    = "udp"
      port        = tostring(rule.value)
      # The peer's address is unknown when the first region is applied; WireGuard answers only
      # packets authenticated with a configured peer key.
      source_ips = ["0.0.0.0/0", "::/0"]
    }
  }
}

resource "hcloud_placement_group" "control_plane" {
  name   = "${var.cluster_name}-cp"
  type   = "spread"
  labels = local.labels
}

resource "hcloud_server" "control_plane" {
  count              = var.control_plane_count
  name               = local.control_plane_names[count.index]
  server_type        = var.control_plane_size
  image              = var.image
  location           = var.location
  placement_group_id = hcloud_placement_group.control_plane.id
  ssh_keys           = [hcloud_ssh_key.placeholder.id]
  firewall_ids       = [hcloud_firewall.nodes.id]
  user_data          = local.control_plane_user_data[count.index]
  labels             = merge(local.labels, { "openova.io/role" = "control-plane" })

  public_net {
    ipv4_enabled = true
    ipv6_enabled = true
  }

  network {
    network_id = hcloud_network.cluster.id
    ip         = local.control_plane_ips[count.index]
  }

  lifecycle {
    # cloud-init runs once; a changed template or a newer image must not replace a running node.
    ignore_changes = [user_data, image, ssh_keys]
  }

  depends_on = [hcloud_network_subnet.nodes]
}

resource "hcloud_server" "worker" {
  count        = var.worker_count
  name         = local.worker_names[count.index]
  server_type  = var.worker_size
  image        = var.image
  location     = var.location
  ssh_keys     = [hcloud_ssh_key.placeholder.id]
  firewall_ids = [hcloud_firewall.nodes.id]
  user_data    = local.worker_user_data[count.index]
  labels       = merge(local.labels, { "openova.io/role" = "worker" })

  public_net {
    ipv4_enabled = true
    ipv6_enabled = true
  }

  network {
    network_id = hcloud_network.cluster.id
    ip         = local.worker_ips[count.index]
  }

  lifecycle {
    ignore_changes = [user_data, image, ssh_keys]
  }

  depends_on = [hcloud_network_subnet.nodes, hcloud_server.control_plane]
}

resource "hcloud_load_balancer" "cluster" {
  name               = "${var.cluster_name}-lb"
  load_balancer_type = var.load_balancer_type
  location           = var.location
  algorithm {
    type = "round_robin"
  }
  labels = local.labels
}

resource "hcloud_load_balancer_network" "cluster" {
  load_balancer_id = hcloud_load_balancer.cluster.id
  network_id       = hcloud_network.cluster.id
  ip               = local.lb_private_ip
  depends_on       = [hcloud_network_subnet.nodes]
}

# Every node of the cluster is a target; each service's health check keeps traffic on the nodes
# that serve it (6443 only answers on control-plane nodes, the NodePorts on all).
resource "hcloud_load_balancer_target" "nodes" {
  type             = "label_selector"
  load_balancer_id = hcloud_load_balancer.cluster.id
  label_selector   = "openova.io/cluster=${var.cluster_name}"
  use_private_ip   = true
  depends_on       = [hcloud_load_balancer_network.cluster]
}

resource "hcloud_load_balancer_service" "services" {
  for_each = {
    api   = { listen = 6443, destination = 6443 }
    http  = { listen = 80, destination = 31080 }
    https = { listen = 443, destination = 31443 }
  }
  load_balancer_id = hcloud_load_balancer.cluster.id
  protocol         = "tcp"
  listen_port      = each.value.listen
  destination_port = each.value.destination

  health_check {
    protocol = "tcp"
    port     = each.value.destination
    interval = 10
    timeout  = 5
    retries  = 3
  }
}
