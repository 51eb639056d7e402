# The shared variable contract. This file exists once and openova writes it into every provider's
# workspace: the runner writes one tfvars JSON shape whatever the cloud. Provider-specific inputs
# (location, sizes, credentials) live in each provider's provider_variables.tf.

variable "organization" {
  description = "Organization slug that owns the platform."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,31}$", var.organization))
    error_message = "organization must match ^[a-z][a-z0-9-]{2,31}$ (3-32 lower-case letters, digits, hyphens; starts with a letter)."
  }
}

variable "domain" {
  description = "The platform's DNS domain (sovereign FQDN), e.g. acme.example.com."
  type        = string
  validation {
    condition     = length(var.domain) <= 253 && can(regex("^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+$", var.domain))
    error_message = "domain must be a lower-case FQDN of at least two labels, at most 253 characters."
  }
}

variable "cluster_name" {
  description = "Cluster and kube context name from the naming convention: {provider}-{region}-{building_block}-{env_type}, e.g. hz-fsn-rtz-prod."
  type        = string
  validation {
    condition     = can(regex("^(hz|hw|oci)-[a-z]{2,4}-(rtz|dmz|mgt)-(prod|stg|uat|dev|poc)$", var.cluster_name))
    error_message = "cluster_name must look like hz-fsn-rtz-prod: provider code (hz, hw, oci), region code, building block (rtz, dmz, mgt), env type (prod, stg, uat, dev, poc)."
  }
}

variable "region_code" {
  description = "Naming-convention region code (fsn, hel, apse, fra, ...), used in labels."
  type        = string
  validation {
    condition     = can(regex("^[a-z]{2,4}$", var.region_code))
    error_message = "region_code must be 2-4 lower-case letters."
  }
}

variable "building_block" {
  description = "Security zone of the cluster: rtz, dmz or mgt."
  type        = string
  validation {
    condition     = contains(["rtz", "dmz", "mgt"], var.building_block)
    error_message = "building_block must be one of rtz, dmz, mgt."
  }
}

variable "env_type" {
  description = "Environment type: prod, stg, uat, dev or poc."
  type        = string
  validation {
    condition     = contains(["prod", "stg", "uat", "dev", "poc"], var.env_type)
    error_message = "env_type must be one of prod, stg, uat, dev, poc."
  }
}

variable "node_name_prefix" {
  description = "Server name prefix {provider}{region}{building_block_1char}, e.g. hzfsnr; servers are named {prefix}-k8s-{n}{suffix} (control plane) and {prefix}-wrk-{n}{suffix} (workers)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]{4,9}$", var.node_name_prefix))
    error_message = "node_name_prefix must be 4-9 lower-case letters, e.g. hzfsnr."
  }
}

variable "node_name_suffix" {
  description = "One-character env type code appended to server names: p, s, u, d or c."
  type        = string
  validation {
    condition     = contains(["p", "s", "u", "d", "c"], var.node_name_suffix)
    error_message = "node_name_suffix must be one of p, s, u, d, c."
  }
}

variable "api_hostname" {
  description = "DNS name of the Kubernetes API (added to the API server certificate), e.g. api.hz-fsn-rtz-prod.acme.example.com."
  type        = string
  validation {
    condition     = length(var.api_hostname) <= 253 && can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.api_hostname))
    error_message = "api_hostname must be a lower-case DNS name of at least two labels, at most 253 characters."
  }
}

variable "control_plane_count" {
  description = "Number of control-plane servers: 1, or 3 for an etcd quorum."
  type        = number
  validation {
    condition     = contains([1, 3], var.control_plane_count)
    error_message = "control_plane_count must be 1 or 3 (etcd needs an odd quorum)."
  }
}

variable "worker_count" {
  description = "Number of worker servers, 0 to 50 (0 runs workloads on the control plane)."
  type        = number
  validation {
    condition     = var.worker_count >= 0 && var.worker_count <= 50 && floor(var.worker_count) == var.worker_count
    error_message = "worker_count must be a whole number from 0 to 50."
  }
}

variable "k3s_version" {
  description = "k3s release installed on every node."
  type        = string
  default     = "v1.31.4+k3s1"
  validation {
    condition     = can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+\\+k3s[0-9]+$", var.k3s_version))
    error_message = "k3s_version must look like v1.31.4+k3s1."
  }
}

variable "cilium_version" {
  description = "Cilium Helm chart version installed by cloud-init (the CNI must exist before Flux can run)."
  type        = string
  default     = "1.16.5"
  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.cilium_version))
    error_message = "cilium_version must be a plain semantic version such as 1.16.5."
  }
}

variable "flux_version" {
  description = "Flux release whose install manifest cloud-init applies."
  type        = string
  default     = "v2.4.0"
  validation {
    condition     = can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+$", var.flux_version))
    error_message = "flux_version must look like v2.4.0."
  }
}

variable "cilium_cluster_id" {
  description = "Cilium ClusterMesh cluster id, unique per cluster of one platform (1 for the first region, 2 for the second)."
  type        = number
  default     = 1
  validation {
    condition     = var.cilium_cluster_id >= 1 && var.cilium_cluster_id <= 255 && floor(var.cilium_cluster_id) == var.cilium_cluster_id
    error_message = "cilium_cluster_id must be a whole number from 1 to 255."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key allowed to log in to every node."
  type        = string
  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) [A-Za-z0-9+/]+={0,3}( .*)?$", var.ssh_public_key))
    error_message = "ssh_public_key must be one OpenSSH public key line starting with ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256/384/521."
  }
}

variable "ssh_allowed_cidrs" {
  description = "Source CIDRs allowed to reach port 22 on the nodes. Empty closes ssh entirely."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "every entry of ssh_allowed_cidrs must be a CIDR such as 203.0.113.0/24."
  }
}

variable "api_allowed_cidrs" {
  description = "Source CIDRs allowed to reach the Kubernetes API on port 6443 through the load balancer. No default: the operator lists them (platform.toml api.allowed_cidrs)."
  type        = list(string)
  validation {
    condition     = length(var.api_allowed_cidrs) > 0 && alltrue([for c in var.api_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "api_allowed_cidrs must hold at least one CIDR, each such as 203.0.113.0/24."
  }
}

variable "network_cidr" {
  description = "Private network of the cluster (/16 to /20). Regions of one platform need disjoint ranges for the WireGuard mesh."
  type        = string
  default     = "10.0.0.0/16"
  validation {
    condition     = can(cidrhost(var.network_cidr, 0)) && can(regex("^[0-9.]+/(1[6-9]|20)$", var.network_cidr))
    error_message = "network_cidr must be an IPv4 CIDR with a prefix length from 16 to 20, e.g. 10.0.0.0/16."
  }
}

variable "pod_cidr" {
  description = "Pod address range (k3s --cluster-cidr). Must differ between meshed clusters."
  type        = string
  default     = "10.42.0.0/16"
  validation {
    condition     = can(cidrhost(var.pod_cidr, 0))
    error_message = "pod_cidr must be an IPv4 CIDR such as 10.42.0.0/16."
  }
}

variable "service_cidr" {
  description = "Service address range (k3s --service-cidr)."
  type        = string
  default     = "10.43.0.0/16"
  validation {
    condition     = can(cidrhost(var.service_cidr, 10))
    error_message = "service_cidr must be an IPv4 CIDR such as 10.43.0.0/16."
  }
}

variable "registry_mirror" {
  description = "Air-gapped sites: https URL of a registry that mirrors every upstream registry under a path named after it (<mirror>/docker.io/library/busybox). Empty pulls from the upstream registries."
  type        = string
  default     = ""
  validation {
    condition     = var.registry_mirror == "" || can(regex("^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._-]+)*/?$", var.registry_mirror))
    error_message = "registry_mirror must be empty or an https:// URL such as https://registry.acme.internal:5000."
  }
}

variable "artifact_source" {
  description = "Where nodes fetch their first-boot files (k3s, its images and installer, the Cilium chart, the Flux manifests): an http(s) URL laid out like `openova airgap bundle` writes it (an object-storage bucket, the site's registry or `openova airgap serve` on the bastion). Empty: the pinned upstream release URLs. Either way every file is checked against its sha256."
  type        = string
  default     = ""
  validation {
    condition     = var.artifact_source == "" || can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*/?$", var.artifact_source))
    error_message = "artifact_source must be empty or an http(s) URL without query or fragment, such as https://artifacts.acme.internal/openova."
  }
}

variable "node_artifacts" {
  description = "Every file a node fetches at first boot, by name: its version, download URL (under artifact_source when set) and sha256. Written by openova from the artifact table tofu-modules/shared/artifacts.json."
  type = map(object({
    version = string
    url     = string
    sha256  = string
  }))
  validation {
    condition = alltrue([for n in ["k3s-binary-amd64", "k3s-binary-arm64", "k3s-images-amd64", "k3s-images-arm64", "k3s-install", "cilium-chart", "flux-install"] : contains(keys(var.node_artifacts), n)]) && alltrue([
      for a in values(var.node_artifacts) : can(regex("^https?://[^\\s'\"]+$", a.url)) && can(regex("^[A-Za-z0-9.+_-]+$", a.version))
    ])
    error_message = "node_artifacts must name k3s-binary-amd64, k3s-binary-arm64, k3s-images-amd64, k3s-images-arm64, k3s-install, cilium-chart and flux-install, each with an http(s) url (no quotes or spaces) and a plain version."
  }
}

variable "wireguard" {
  description = "WireGuard mesh to the platform's other region, or null for a single region. The first control-plane node is this region's gateway; address is its mesh address (CIDR form); peers carry public keys only."
  type = object({
    address     = string
    listen_port = optional(number, 51820)
    peers = list(object({
      name        = string
      public_key  = string
      endpoint    = optional(string, "")
      allowed_ips = list(string)
    }))
  })
  default = null
  validation {
    # A conditional, not ||: HCL evaluates both sides of || and attribute access on null fails.
    condition = var.wireguard == null ? true : (
      can(cidrhost(var.wireguard.address, 0)) &&
      var.wireguard.listen_port >= 1024 && var.wireguard.listen_port <= 65535 &&
      length(var.wireguard.peers) >= 1 &&
      alltrue([for p in var.wireguard.peers : can(regex("^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$", p.public_key))]) &&
      alltrue([for p in var.wireguard.peers : p.endpoint == "" || can(regex("^[^:]+:[0-9]{1,5}$", p.endpoint))]) &&
      alltrue(flatten([for p in var.wireguard.peers : [for c in p.allowed_ips : can(cidrhost(c, 0))]]))
    )
    error_message = "wireguard: address must be a CIDR, listen_port 1024-65535, at least one peer, each peer public_key a 44-character base64 WireGuard key, endpoint empty or host:port, allowed_ips CIDRs."
  }
}

variable "wireguard_private_key" {
  description = "This region's WireGuard gateway private key (base64). Secret: passed only as TF_VAR_wireguard_private_key."
  type        = string
  default     = ""
  sensitive   = true
  validation {
    condition     = var.wireguard_private_key == "" || can(regex("^[A-Za-z0-9+/]{43}=$", var.wireguard_private_key))
    error_message = "wireguard_private_key must be a 44-character base64 WireGuard key."
  }
}
