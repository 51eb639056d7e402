# Oracle Cloud Infrastructure inputs. The names location, control_plane_size and worker_size are
# part of the shared contract; their allowed values are OCI's. The four API credentials (tenancy,
# user, fingerprint, signing key) come from the environment like every credential; only the
# private key is secret, but keeping them together means one source of truth for the runner.

variable "oci_private_key" {
  description = "PEM private key of the OCI API signing key. Secret: passed only as TF_VAR_oci_private_key."
  type        = string
  sensitive   = true
  validation {
    condition     = can(regex("-----BEGIN (RSA |)PRIVATE KEY-----", var.oci_private_key))
    error_message = "oci_private_key must be a PEM private key (the API signing key)."
  }
}

variable "oci_tenancy_ocid" {
  description = "OCID of the tenancy. Passed as TF_VAR_oci_tenancy_ocid with the other API credentials."
  type        = string
  sensitive   = true
  validation {
    condition     = can(regex("^ocid1\\.tenancy\\.[a-z0-9]+\\.[a-z0-9-]*\\.[a-z0-9]+$", var.oci_tenancy_ocid))
    error_message = "oci_tenancy_ocid must be a tenancy OCID (ocid1.tenancy.oc1..<id>)."
  }
}

variable "oci_user_ocid" {
  description = "OCID of the API user. Passed as TF_VAR_oci_user_ocid."
  type        = string
  sensitive   = true
  validation {
    condition     = can(regex("^ocid1\\.user\\.[a-z0-9]+\\.[a-z0-9-]*\\.[a-z0-9]+$", var.oci_user_ocid))
    error_message = "oci_user_ocid must be a user OCID (ocid1.user.oc1..<id>)."
  }
}

variable "oci_fingerprint" {
  description = "Fingerprint of the API signing key. Passed as TF_VAR_oci_fingerprint."
  type        = string
  sensitive   = true
  validation {
    condition     = can(regex("^([0-9a-f]{2}:){15}[0-9a-f]{2}$", var.oci_fingerprint))
    error_message = "oci_fingerprint must be 16 colon-separated lower-case hex bytes."
  }
}

variable "oci_compartment_ocid" {
  description = "OCID of the compartment that receives the cluster; empty means the tenancy's root compartment."
  type        = string
  default     = ""
  validation {
    condition     = var.oci_compartment_ocid == "" || can(regex("^ocid1\\.(compartment|tenancy)\\.[a-z0-9]+\\.[a-z0-9-]*\\.[a-z0-9]+$", var.oci_compartment_ocid))
    error_message = "oci_compartment_ocid must be empty or a compartment or tenancy OCID."
  }
}

variable "location" {
  description = "OCI region: eu-frankfurt-1, eu-amsterdam-1, us-ashburn-1, us-phoenix-1, ap-singapore-1, ap-sydney-1 or me-dubai-1."
  type        = string
  validation {
    condition     = contains(["eu-frankfurt-1", "eu-amsterdam-1", "us-ashburn-1", "us-phoenix-1", "ap-singapore-1", "ap-sydney-1", "me-dubai-1"], var.location)
    error_message = "location must be one of eu-frankfurt-1, eu-amsterdam-1, us-ashburn-1, us-phoenix-1, ap-singapore-1, ap-sydney-1, me-dubai-1."
  }
}

variable "control_plane_size" {
  description = "Flex shape with OCPUs and memory (GB) of the control-plane nodes: <shape>.<ocpus>.<gb>, e.g. VM.Standard.E5.Flex.2.16."
  type        = string
  validation {
    condition     = can(regex("^VM\\.[A-Za-z0-9]+(\\.[A-Za-z0-9]+)*\\.Flex\\.[1-9][0-9]*\\.[1-9][0-9]*$", var.control_plane_size))
    error_message = "control_plane_size must be a flex shape with OCPUs and GB such as VM.Standard.E5.Flex.2.16."
  }
}

variable "worker_size" {
  description = "Flex shape with OCPUs and memory (GB) of the worker nodes, e.g. VM.Standard.E5.Flex.2.16."
  type        = string
  validation {
    condition     = can(regex("^VM\\.[A-Za-z0-9]+(\\.[A-Za-z0-9]+)*\\.Flex\\.[1-9][0-9]*\\.[1-9][0-9]*$", var.worker_size))
    error_message = "worker_size must be a flex shape with OCPUs and GB such as VM.Standard.E5.Flex.2.16."
  }
}

variable "boot_volume_gb" {
  description = "Boot volume size of every node in GB."
  type        = number
  default     = 100
  validation {
    condition     = var.boot_volume_gb >= 50 && var.boot_volume_gb <= 1024
    error_message = "boot_volume_gb must be between 50 and 1024."
  }
}
