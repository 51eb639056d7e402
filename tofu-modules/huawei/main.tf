# Huawei Cloud: a VPC and subnet, a security group, ECS instances running k3s, and a dedicated
# (v3) ELB with TCP listeners for the Kubernetes API (6443) and the ingress NodePorts
# (80 -> 31080, 443 -> 31443). Accounts are regional, so in-region names follow the
# {purpose}-{env_type} convention.

locals {
  provider_name = "huawei"

  api_public_host = huaweicloud_vpc_eip.lb.address
  # The ELB passes the client's address through, so a node that is also a 6443 member cannot
  # reach the API through it (hairpin); nodes use the first control plane instead.
  api_internal_host = local.control_plane_ips[0]
  revoked_ssh_key   = ""

  control_plane_public_ips = huaweicloud_compute_instance.control_plane[*].public_ip

  vpc_name = "${var.building_block}-${var.env_type}"
  azs      = data.huaweicloud_availability_zones.zones.names

  lb_ports = {
    api   = { listen = 6443, target = 6443 }
    http  = { listen = 80, target = 31080 }
    https = { listen = 443, target = 31443 }
  }
  # The API pool holds the control plane; the ingress pools hold every node.
  lb_members = merge(
    { for i, ip in local.control_plane_ips : "api-${i}" => { pool = "api", address = ip } },
    { for pair in setproduct(["http", "https"], concat(local.control_plane_ips, local.worker_ips)) : "${pair[0]}-${pair[1]}" => { pool = pair[0], address = pair[1] } },
  )
}

data "huaweicloud_availability_zones" "zones" {}

data "huaweicloud_images_image" "ubuntu" {
  name        = var.image_name
  visibility  = "public"
  most_recent = true
}

data "huaweicloud_elb_flavors" "l4" {
  type = "L4"
}

resource "huaweicloud_vpc" "cluster" {
  name = local.vpc_name
  cidr = var.network_cidr
  tags = local.flat_tags
}

resource "huaweicloud_vpc_subnet" "nodes" {
  name       = "k8s-nodes"
  vpc_id     = huaweicloud_vpc.cluster.id
  cidr       = local.subnet_cidr
  gateway_ip = cidrhost(local.subnet_cidr, 1)
  tags       = local.flat_tags
}

resource "huaweicloud_kps_keypair" "cluster" {
  name       = "cluster-${var.env_type}"
  public_key = var.ssh_public_key
}

# The default rules (all egress, all ingress from members of this group) stay in place.
resource "huaweicloud_networking_secgroup" "nodes" {
  name        = "k8s-nodes"
  description = "Nodes of ${var.cluster_name}"
}

locals {
  ingress_rules = concat(
    [for c in var.ssh_allowed_cidrs : { name = "ssh", protocol = "tcp", port = 22, cidr = c }],
    [for c in var.api_allowed_cidrs : { name = "api", protocol = "tcp", port = 6443, cidr = c }],
    [for c in ["0.0.0.0/0"] : { name = "http", protocol = "tcp", port = 31080, cidr = c }],
    [for c in ["0.0.0.0/0"] : { name = "https", protocol = "tcp", port = 31443, cidr = c }],
    [{ name = "vpc", protocol = "", port = 0, cidr = var.network_cidr }],
    [for c in local.mesh_peer_cidrs : { name = "mesh-peer", protocol = "", port = 0, cidr = c }],
    var.wireguard == null ? [] : [{ name = "wireguard", protocol = "udp", port = var.wireguard.listen_port, cidr = "0.0.0.0/0" }],
  )
}

resource "huaweicloud_networking_secgroup_rule" "ingress" {
  for_each          = { for r in local.ingress_rules : "${r.name}-${r.cidr}" => r }
  security_group_id = huaweicloud_networking_secgroup.nodes.id
  description       = each.value.name
  direction         = "ingress"
  ethertype         = strcontains(each.value.cidr, ":") ? "IPv6" : "IPv4"
  protocol          = each.value.protocol == "" ? null : each.value.protocol
  port_range_min    = each.value.port == 0 ? null : each.value.port
  port_range_max    = each.value.port == 0 ? null : each.value.port
  remote_ip_prefix  = each.value.cidr
}

resource "huaweicloud_compute_instance" "control_plane" {
  count              = var.control_plane_count
  name               = local.control_plane_names[count.index]
  image_id           = data.huaweicloud_images_image.ubuntu.id
  flavor_id          = var.control_plane_size
  key_pair           = huaweicloud_kps_keypair.cluster.name
  security_group_ids = [huaweicloud_networking_secgroup.nodes.id]
  availability_zone  = local.azs[count.index % length(local.azs)]
  user_data          = local.control_plane_user_data[count.index]
  system_disk_type   = "SSD"
  system_disk_size   = 80
  tags               = merge(local.flat_tags, { openova_role = "control-plane" })

  eip_type = var.eip_type
  bandwidth {
    share_type  = "PER"
    size        = var.bandwidth_mbit
    charge_mode = "traffic"
  }

  network {
    uuid        = huaweicloud_vpc_subnet.nodes.id
    fixed_ip_v4 = local.control_plane_ips[count.index]
    # The first node forwards the WireGuard peers' traffic.
    source_dest_check = !(count.index == 0 && var.wireguard != null)
  }

  lifecycle {
    # cloud-init runs once; a changed template or a newer image must not replace a running node.
    ignore_changes = [user_data, image_id]
  }
}

resource "huaweicloud_compute_instance" "worker" {
  count              = var.worker_count
  name               = local.worker_names[count.index]
  image_id           = data.huaweicloud_images_image.ubuntu.id
  flavor_id          = var.worker_size
  key_pair           = huaweicloud_kps_keypair.cluster.name
  security_group_ids = [huaweicloud_networking_secgroup.nodes.id]
  availability_zone  = local.azs[count.index % length(local.azs)]
  user_data          = local.worker_user_data[count.index]
  system_disk_type   = "SSD"
  system_disk_size   = 80
  tags               = merge(local.flat_tags, { openova_role = "worker" })

  eip_type = var.eip_type
  bandwidth {
    share_type  = "PER"
    size        = var.bandwidth_mbit
    charge_mode = "traffic"
  }

  network {
    uuid        = huaweicloud_vpc_subnet.nodes.id
    fixed_ip_v4 = local.worker_ips[count.index]
  }

  lifecycle {
    ignore_changes = [user_data, image_id]
  }

  depends_on = [huaweicloud_compute_instance.control_plane]
}

# The WireGuard gateway (first control-plane node) receives the other region's ranges.
resource "huaweicloud_vpc_route" "mesh" {
  for_each    = toset(local.mesh_peer_cidrs)
  vpc_id      = huaweicloud_vpc.cluster.id
  destination = each.value
  type        = "ecs"
  nexthop     = huaweicloud_compute_instance.control_plane[0].id
}

resource "huaweicloud_vpc_eip" "lb" {
  name = "ingress-${var.env_type}"
  tags = local.flat_tags

  publicip {
    type = var.eip_type
  }

  bandwidth {
    share_type  = "PER"
    name        = "ingress-${var.env_type}"
    size        = var.bandwidth_mbit
    charge_mode = "traffic"
  }
}

resource "huaweicloud_elb_loadbalancer" "cluster" {
  name              = "ingress-${var.env_type}"
  description       = "Kubernetes API and ingress of ${var.cluster_name}"
  vpc_id            = huaweicloud_vpc.cluster.id
  ipv4_subnet_id    = huaweicloud_vpc_subnet.nodes.ipv4_subnet_id
  ipv4_address      = local.lb_private_ip
  ipv4_eip_id       = huaweicloud_vpc_eip.lb.id
  l4_flavor_id      = data.huaweicloud_elb_flavors.l4.ids[0]
  availability_zone = slice(local.azs, 0, min(2, length(local.azs)))
  tags              = local.flat_tags
}

resource "huaweicloud_elb_listener" "services" {
  for_each        = local.lb_ports
  name            = each.key
  loadbalancer_id = huaweicloud_elb_loadbalancer.cluster.id
  protocol        = "TCP"
  protocol_port   = each.value.listen
}

resource "huaweicloud_elb_pool" "services" {
  for_each    = local.lb_ports
  name        = each.key
  listener_id = huaweicloud_elb_listener.services[each.key].id
  protocol    = "TCP"
  lb_method   = "ROUND_ROBIN"
}

resource "huaweicloud_elb_monitor" "services" {
  for_each    = local.lb_ports
  pool_id     = huaweicloud_elb_pool.services[each.key].id
  protocol    = "TCP"
  port        = each.value.target
  interval    = 10
  timeout     = 5
  max_retries = 3
}

resource "huaweicloud_elb_member" "nodes" {
  for_each      = local.lb_members
  pool_id       = huaweicloud_elb_pool.services[each.value.pool].id
  address       = each.value.address
  protocol_port = local.lb_ports[each.value.pool].target
  subnet_id     = huaweicloud_vpc_subnet.nodes.ipv4_subnet_id
  depends_on    = [huaweicloud_compute_instance.control_plane, huaweicloud_compute_instance.worker]
}
