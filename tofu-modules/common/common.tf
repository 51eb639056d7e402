# Naming, addressing, labels and node cloud-init shared by every provider module. This file exists
# once and is written into every provider's workspace; each module's main.tf defines the
# provider-specific locals it reads: provider_name, api_public_host, api_internal_host,
# control_plane_public_ips and revoked_ssh_key.

locals {
  templates = "${path.module}/../shared/templates"

  control_plane_names = [for i in range(var.control_plane_count) : "${var.node_name_prefix}-k8s-${i + 1}${var.node_name_suffix}"]
  worker_names        = [for i in range(var.worker_count) : "${var.node_name_prefix}-wrk-${i + 1}${var.node_name_suffix}"]

  # Nodes get fixed private addresses so the join address and the firewall rules are known before
  # any server exists: control plane .11-.13, workers .21-.70, load balancer .5 in the node subnet.
  network_prefix_length = tonumber(split("/", var.network_cidr)[1])
  subnet_cidr           = cidrsubnet(var.network_cidr, 24 - local.network_prefix_length, 1)
  lb_private_ip         = cidrhost(local.subnet_cidr, 5)
  control_plane_ips     = [for i in range(var.control_plane_count) : cidrhost(local.subnet_cidr, 11 + i)]
  worker_ips            = [for i in range(var.worker_count) : cidrhost(local.subnet_cidr, 21 + i)]

  # Networks reachable through the WireGuard gateway (the first control-plane node).
  mesh_peer_cidrs = var.wireguard == null ? [] : distinct(flatten([for p in var.wireguard.peers : p.allowed_ips]))

  labels = {
    "openova.io/provider"       = local.provider_name
    "openova.io/region"         = var.region_code
    "openova.io/building-block" = var.building_block
    "openova.io/env-type"       = var.env_type
    "openova.io/cluster"        = var.cluster_name
    "openova.io/managed-by"     = "opentofu"
  }
  # Clouds whose tag keys forbid "/" and "." carry the same set as openova_<name>.
  flat_tags = { for k, v in local.labels : replace(k, "openova.io/", "openova_") => v }

  sshd_hardening = <<-EOT
    PasswordAuthentication no
    KbdInteractiveAuthentication no
    PermitRootLogin prohibit-password
    MaxAuthTries 3
    LoginGraceTime 30
    X11Forwarding no
    ClientAliveInterval 300
    ClientAliveCountMax 2
  EOT

  tls_sans = distinct([local.api_public_host, local.api_internal_host, var.api_hostname])

  server_config = [for i in range(var.control_plane_count) : merge(
    {
      node-name              = local.control_plane_names[i]
      node-ip                = local.control_plane_ips[i]
      advertise-address      = local.control_plane_ips[i]
      tls-san                = local.tls_sans
      flannel-backend        = "none"
      disable-network-policy = true
      disable-kube-proxy     = true
      disable                = ["traefik", "servicelb"]
      cluster-cidr           = var.pod_cidr
      service-cidr           = var.service_cidr
      secrets-encryption     = true
      write-kubeconfig-mode  = "0600"
      node-label             = ["openova.io/role=control-plane", "openova.io/cluster=${var.cluster_name}"]
    },
    # The first server initialises embedded etcd with the bare secret; the others join it. Null
    # entries are dropped so the branches need not share one object type.
    { for k, v in {
      cluster-init = i == 0 ? true : null
      server       = i == 0 ? null : "https://${local.control_plane_ips[0]}:6443"
    } : k => v if v != null },
    { token = i == 0 ? random_password.k3s_token.result : local.k3s_join_token },
  )]

  agent_config = [for i in range(var.worker_count) : {
    node-name  = local.worker_names[i]
    node-ip    = local.worker_ips[i]
    server     = "https://${local.api_internal_host}:6443"
    token      = local.k3s_join_token
    node-label = ["openova.io/role=worker", "openova.io/cluster=${var.cluster_name}"]
  }]

  wireguard_conf = var.wireguard == null ? "" : templatefile("${local.templates}/wg0.conf.tftpl", {
    address     = var.wireguard.address
    listen_port = var.wireguard.listen_port
    private_key = var.wireguard_private_key
    peers       = var.wireguard.peers
  })

  # containerd asks the mirror for <mirror>/<upstream registry>/<repository>.
  mirrored_registries = ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io"]
  registry_files = var.registry_mirror == "" ? [] : [{
    path = "/etc/rancher/k3s/registries.yaml"
    mode = "0600"
    content = yamlencode({
      mirrors = { for r in local.mirrored_registries : r => {
        endpoint = [var.registry_mirror]
        rewrite  = { "^(.*)$" = "${r}/$1" }
      } }
    })
  }]

  node_metadata = {
    organization = var.organization
    domain       = var.domain
    cluster      = var.cluster_name
    provider     = local.provider_name
    k3s_version  = var.k3s_version
  }

  # What every node's bootstrap script is rendered with; role, first_server and wireguard differ.
  bootstrap_vars = {
    provider          = local.provider_name
    k3s_version       = var.k3s_version
    cilium_version    = var.cilium_version
    flux_version      = var.flux_version
    node_artifacts    = var.node_artifacts
    cluster_name      = var.cluster_name
    cilium_cluster_id = var.cilium_cluster_id
    api_internal_host = local.api_internal_host
    revoked_ssh_key   = local.revoked_ssh_key
  }

  control_plane_user_data = [for i in range(var.control_plane_count) : templatefile("${local.templates}/cloud-init.yaml.tftpl", {
    node_name      = local.control_plane_names[i]
    ssh_public_key = var.ssh_public_key
    packages       = i == 0 && var.wireguard != null ? ["curl", "jq", "ca-certificates", "wireguard-tools"] : ["curl", "jq", "ca-certificates"]
    files = concat(
      [
        { path = "/etc/rancher/k3s/config.yaml", mode = "0600", content = yamlencode(local.server_config[i]) },
        { path = "/etc/ssh/sshd_config.d/60-openova.conf", mode = "0644", content = local.sshd_hardening },
        { path = "/etc/openova/node.json", mode = "0644", content = jsonencode(merge(local.node_metadata, { role = "control-plane" })) },
        {
          path = "/usr/local/sbin/openova-bootstrap", mode = "0755", content = templatefile("${local.templates}/bootstrap.sh.tftpl", merge(local.bootstrap_vars, {
            role         = "server"
            first_server = i == 0
            wireguard    = i == 0 && var.wireguard != null
          }))
        },
      ],
      i == 0 ? [for path, pem in local.k3s_ca_files : { path = path, mode = "0600", content = pem }] : [],
      i == 0 && var.wireguard != null ? [{ path = "/etc/wireguard/wg0.conf", mode = "0600", content = local.wireguard_conf }] : [],
      local.registry_files,
    )
  })]

  worker_user_data = [for i in range(var.worker_count) : templatefile("${local.templates}/cloud-init.yaml.tftpl", {
    node_name      = local.worker_names[i]
    ssh_public_key = var.ssh_public_key
    packages       = ["curl", "jq", "ca-certificates"]
    files = concat([
      { path = "/etc/rancher/k3s/config.yaml", mode = "0600", content = yamlencode(local.agent_config[i]) },
      { path = "/etc/ssh/sshd_config.d/60-openova.conf", mode = "0644", content = local.sshd_hardening },
      { path = "/etc/openova/node.json", mode = "0644", content = jsonencode(merge(local.node_metadata, { role = "worker" })) },
      {
        path = "/usr/local/sbin/openova-bootstrap", mode = "0755", content = templatefile("${local.templates}/bootstrap.sh.tftpl", merge(local.bootstrap_vars, {
          role         = "agent"
          first_server = false
          wireguard    = false
        }))
      },
    ], local.registry_files)
  })]
}

# Rules that span several variables (validation blocks may only look at their own variable
# before OpenTofu 1.9).
resource "terraform_data" "input_checks" {
  lifecycle {
    precondition {
      condition     = var.wireguard == null || var.wireguard_private_key != ""
      error_message = "wireguard is set but wireguard_private_key is empty: pass the gateway's private key as TF_VAR_wireguard_private_key."
    }
    precondition {
      condition     = !contains([for p in local.mesh_peer_cidrs : cidrhost(p, 0) == cidrhost(var.network_cidr, 0)], true)
      error_message = "a wireguard peer's allowed_ips repeats this cluster's network_cidr; regions of one platform need disjoint networks."
    }
    precondition {
      condition     = alltrue([for a in values(var.node_artifacts) : can(regex("^[0-9a-f]{64}$", a.sha256))])
      error_message = "node_artifacts without a pinned sha256: ${join(", ", [for k, a in var.node_artifacts : k if !can(regex("^[0-9a-f]{64}$", a.sha256))])}. Every file a node fetches must be pinned: fill its sha256 in the artifact table (tofu-modules/shared/artifacts.json) from the checksum upstream publishes."
    }
    precondition {
      condition     = var.artifact_source == "" || alltrue([for a in values(var.node_artifacts) : startswith(a.url, "${trimsuffix(var.artifact_source, "/")}/")])
      error_message = "with artifact_source set, every node artifact must be fetched from it; these are not: ${join(", ", [for k, a in var.node_artifacts : k if !startswith(a.url, "${trimsuffix(var.artifact_source, "/")}/")])}."
    }
  }
}
