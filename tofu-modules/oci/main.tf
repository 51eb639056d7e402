# Oracle Cloud Infrastructure: a VCN with an internet gateway and one public subnet, a security
# list, flex-shape instances running k3s, and a public network load balancer with TCP listeners
# for the Kubernetes API (6443) and the ingress NodePorts (80 -> 31080, 443 -> 31443). A VCN is
# regional, so in-region names follow the {purpose}-{env_type} convention.

locals {
  provider_name  = "oci"
  compartment_id = var.oci_compartment_ocid == "" ? var.oci_tenancy_ocid : var.oci_compartment_ocid

  # "VM.Standard.E5.Flex.2.16" is shape VM.Standard.E5.Flex with 2 OCPUs and 16 GB.
  size_parts = { control_plane = split(".", var.control_plane_size), worker = split(".", var.worker_size) }
  shapes = {
    for role, p in local.size_parts : role => {
      shape  = join(".", slice(p, 0, length(p) - 2))
      ocpus  = tonumber(p[length(p) - 2])
      memory = tonumber(p[length(p) - 1])
    }
  }

  api_public_host = one([for ip in oci_network_load_balancer_network_load_balancer.cluster.ip_addresses : ip.ip_address if ip.is_public])
  # Nodes reach the API on the first control plane: a node behind the load balancer's 6443
  # backend set would otherwise be sent to itself.
  api_internal_host = local.control_plane_ips[0]
  revoked_ssh_key   = ""

  control_plane_public_ips = oci_core_instance.control_plane[*].public_ip

  ads = data.oci_identity_availability_domains.ads.availability_domains[*].name

  lb_ports = {
    api   = { listen = 6443, target = 6443 }
    http  = { listen = 80, target = 31080 }
    https = { listen = 443, target = 31443 }
  }
  lb_members = merge(
    { for i, ip in local.control_plane_ips : "api-${i}" => { pool = "api", address = ip } },
    { for pair in setproduct(["http", "https"], concat(local.control_plane_ips, local.worker_ips)) : "${pair[0]}-${pair[1]}" => { pool = pair[0], address = pair[1] } },
  )

  # Protocol numbers as the security list wants them: 6 = TCP, 17 = UDP.
  ingress_rules = concat(
    [for c in var.ssh_allowed_cidrs : { protocol = "6", port = 22, cidr = c }],
    [for c in var.api_allowed_cidrs : { protocol = "6", port = 6443, cidr = c } if !strcontains(c, ":")],
    [{ protocol = "6", port = 80, cidr = "0.0.0.0/0" }, { protocol = "6", port = 443, cidr = "0.0.0.0/0" }],
    [{ protocol = "all", port = 0, cidr = var.network_cidr }],
    [for c in local.mesh_peer_cidrs : { protocol = "all", port = 0, cidr = c }],
    var.wireguard == null ? [] : [{ protocol = "17", port = var.wireguard.listen_port, cidr = "0.0.0.0/0" }],
  )
}

data "oci_identity_availability_domains" "ads" {
  compartment_id = var.oci_tenancy_ocid
}

data "oci_core_images" "ubuntu" {
  for_each                 = local.shapes
  compartment_id           = local.compartment_id
  operating_system         = "Canonical Ubuntu"
  operating_system_version = "24.04"
  shape                    = each.value.shape
  sort_by                  = "TIMECREATED"
  sort_order               = "DESC"
}

resource "oci_core_vcn" "cluster" {
  compartment_id = local.compartment_id
  display_name   = "${var.building_block}-${var.env_type}"
  cidr_blocks    = [var.network_cidr]
  dns_label      = substr(replace(var.cluster_name, "-", ""), 0, 15)
  freeform_tags  = local.flat_tags
}

resource "oci_core_internet_gateway" "cluster" {
  compartment_id = local.compartment_id
  vcn_id         = oci_core_vcn.cluster.id
  display_name   = "default"
  enabled        = true
  freeform_tags  = local.flat_tags
}

# The subnet uses the VCN's default route table; managing it here (instead of a table attached
# to the subnet) lets the mesh routes point at the gateway node without a dependency cycle.
resource "oci_core_default_route_table" "cluster" {
  manage_default_resource_id = oci_core_vcn.cluster.default_route_table_id
  display_name               = "default"

  route_rules {
    destination       = "0.0.0.0/0"
    destination_type  = "CIDR_BLOCK"
    network_entity_id = oci_core_internet_gateway.cluster.id
  }

  dynamic "route_rules" {
    for_each = local.mesh_peer_cidrs
    content {
      destination       = route_rules.value
      destination_type  = "CIDR_BLOCK"
      network_entity_id = data.oci_core_private_ips.gateway[0].private_ips[0].id
    }
  }
}

# The private-IP object of the WireGuard gateway (first control-plane node), target of the mesh routes.
data "oci_core_private_ips" "gateway" {
  count      = var.wireguard == null ? 0 : 1
  ip_address = local.control_plane_ips[0]
  subnet_id  = oci_core_subnet.nodes.id
  depends_on = [oci_core_instance.control_plane]
}

resource "oci_core_security_list" "nodes" {
  compartment_id = local.compartment_id
  vcn_id         = oci_core_vcn.cluster.id
  display_name   = "k8s-nodes"
  freeform_tags  = local.flat_tags

  egress_security_rules {
    destination = "0.0.0.0/0"
    protocol    = "all"
  }

  dynamic "ingress_security_rules" {
    for_each = local.ingress_rules
    content {
      protocol = ingress_security_rules.value.protocol
      source   = ingress_security_rules.value.cidr

      dynamic "tcp_options" {
        for_each = ingress_security_rules.value.protocol == "6" ? [ingress_security_rules.value.port] : []
        content {
          min = tcp_options.value
          max = tcp_options.value
        }
      }

      dynamic "udp_options" {
        for_each = ingress_security_rules.value.protocol == "17" ? [ingress_security_rules.value.port] : []
        content {
          min = udp_options.value
          max = udp_options.value
        }
      }
    }
  }

  # Path MTU discovery.
  ingress_security_rules {
    protocol = "1"
    source   = "0.0.0.0/0"
    icmp_options {
      type = 3
      code = 4
    }
  }
}

resource "oci_core_subnet" "nodes" {
  compartment_id    = local.compartment_id
  vcn_id            = oci_core_vcn.cluster.id
  cidr_block        = local.subnet_cidr
  display_name      = "k8s-nodes"
  dns_label         = "nodes"
  security_list_ids = [oci_core_security_list.nodes.id]
  freeform_tags     = local.flat_tags
}

resource "oci_core_instance" "control_plane" {
  count               = var.control_plane_count
  compartment_id      = local.compartment_id
  availability_domain = local.ads[count.index % length(local.ads)]
  display_name        = local.control_plane_names[count.index]
  shape               = local.shapes.control_plane.shape
  freeform_tags       = merge(local.flat_tags, { openova_role = "control-plane" })

  shape_config {
    ocpus         = local.shapes.control_plane.ocpus
    memory_in_gbs = local.shapes.control_plane.memory
  }

  create_vnic_details {
    subnet_id        = oci_core_subnet.nodes.id
    private_ip       = local.control_plane_ips[count.index]
    hostname_label   = local.control_plane_names[count.index]
    assign_public_ip = true
    # The first node forwards the WireGuard peers' traffic.
    skip_source_dest_check = count.index == 0 && var.wireguard != null
  }

  source_details {
    source_type             = "image"
    source_id               = data.oci_core_images.ubuntu["control_plane"].images[0].id
    boot_volume_size_in_gbs = var.boot_volume_gb
  }

  metadata = {
    ssh_authorized_keys = var.ssh_public_key
    user_data           = base64encode(local.control_plane_user_data[count.index])
  }

  lifecycle {
    # cloud-init runs once; a changed template or a newer image must not replace a running node.
    ignore_changes = [metadata, source_details]
  }
}

resource "oci_core_instance" "worker" {
  count               = var.worker_count
  compartment_id      = local.compartment_id
  availability_domain = local.ads[count.index % length(local.ads)]
  display_name        = local.worker_names[count.index]
  shape               = local.shapes.worker.shape
  freeform_tags       = merge(local.flat_tags, { openova_role = "worker" })

  shape_config {
    ocpus         = local.shapes.worker.ocpus
    memory_in_gbs = local.shapes.worker.memory
  }

  create_vnic_details {
    subnet_id        = oci_core_subnet.nodes.id
    private_ip       = local.worker_ips[count.index]
    hostname_label   = local.worker_names[count.index]
    assign_public_ip = true
  }

  source_details {
    source_type             = "image"
    source_id               = data.oci_core_images.ubuntu["worker"].images[0].id
    boot_volume_size_in_gbs = var.boot_volume_gb
  }

  metadata = {
    ssh_authorized_keys = var.ssh_public_key
    user_data           = base64encode(local.worker_user_data[count.index])
  }

  lifecycle {
    ignore_changes = [metadata, source_details]
  }

  depends_on = [oci_core_instance.control_plane]
}

resource "oci_network_load_balancer_network_load_balancer" "cluster" {
  compartment_id                 = local.compartment_id
  display_name                   = "ingress-${var.env_type}"
  subnet_id                      = oci_core_subnet.nodes.id
  is_private                     = false
  is_preserve_source_destination = false
  freeform_tags                  = local.flat_tags
}

resource "oci_network_load_balancer_backend_set" "services" {
  for_each                 = local.lb_ports
  name                     = each.key
  network_load_balancer_id = oci_network_load_balancer_network_load_balancer.cluster.id
  policy                   = "FIVE_TUPLE"
  is_preserve_source       = false

  health_checker {
    protocol           = "TCP"
    port               = each.value.target
    interval_in_millis = 10000
    timeout_in_millis  = 5000
    retries            = 3
  }
}

resource "oci_network_load_balancer_listener" "services" {
  for_each                 = local.lb_ports
  name                     = each.key
  network_load_balancer_id = oci_network_load_balancer_network_load_balancer.cluster.id
  default_backend_set_name = oci_network_load_balancer_backend_set.services[each.key].name
  port                     = each.value.listen
  protocol                 = "TCP"
}

resource "oci_network_load_balancer_backend" "nodes" {
  for_each                 = local.lb_members
  network_load_balancer_id = oci_network_load_balancer_network_load_balancer.cluster.id
  backend_set_name         = oci_network_load_balancer_backend_set.services[each.value.pool].name
  ip_address               = each.value.address
  port                     = local.lb_ports[each.value.pool].target
  depends_on               = [oci_core_instance.control_plane, oci_core_instance.worker]
}
