# Huawei Cloud inputs. The names location, control_plane_size and worker_size are part of the
# shared contract; their allowed values are Huawei Cloud's.

variable "huawei_access_key" {
  description = "Huawei Cloud access key id. Secret: passed only as TF_VAR_huawei_access_key."
  type        = string
  sensitive   = true
  validation {
    condition     = length(var.huawei_access_key) >= 16
    error_message = "huawei_access_key must be a Huawei Cloud access key id (at least 16 characters)."
  }
}

variable "huawei_secret_key" {
  description = "Huawei Cloud secret access key. Secret: passed only as TF_VAR_huawei_secret_key."
  type        = string
  sensitive   = true
  validation {
    condition     = length(var.huawei_secret_key) >= 32
    error_message = "huawei_secret_key must be a Huawei Cloud secret access key (at least 32 characters)."
  }
}

variable "location" {
  description = "Huawei Cloud region: eu-west-101, eu-west-204, cn-north-4, ap-southeast-1, ap-southeast-3, me-east-1 or sa-brazil-1."
  type        = string
  validation {
    condition     = contains(["eu-west-101", "eu-west-204", "cn-north-4", "ap-southeast-1", "ap-southeast-3", "me-east-1", "sa-brazil-1"], var.location)
    error_message = "location must be one of eu-west-101, eu-west-204, cn-north-4, ap-southeast-1, ap-southeast-3, me-east-1, sa-brazil-1."
  }
}

variable "control_plane_size" {
  description = "ECS flavor of the control-plane nodes, e.g. c7n.xlarge.2."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9]*\\.(small|medium|large|xlarge|[1-9][0-9]*xlarge)\\.[1-9][0-9]*$", var.control_plane_size))
    error_message = "control_plane_size must be an ECS flavor such as c7n.xlarge.2 or s7.2xlarge.4."
  }
}

variable "worker_size" {
  description = "ECS flavor of the worker nodes, e.g. c7n.xlarge.2."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9]*\\.(small|medium|large|xlarge|[1-9][0-9]*xlarge)\\.[1-9][0-9]*$", var.worker_size))
    error_message = "worker_size must be an ECS flavor such as c7n.xlarge.2 or s7.2xlarge.4."
  }
}

variable "image_name" {
  description = "Public image the nodes boot from."
  type        = string
  default     = "Ubuntu 24.04 server 64bit"
}

variable "eip_type" {
  description = "Elastic IP line type of the region (5_bgp in most regions)."
  type        = string
  default     = "5_bgp"
  validation {
    condition     = can(regex("^5_[a-z]+$", var.eip_type))
    error_message = "eip_type must be a Huawei Cloud EIP type such as 5_bgp or 5_sbgp."
  }
}

variable "bandwidth_mbit" {
  description = "Per-EIP bandwidth cap in Mbit/s (billed by traffic)."
  type        = number
  default     = 100
  validation {
    condition     = var.bandwidth_mbit >= 1 && var.bandwidth_mbit <= 300 && floor(var.bandwidth_mbit) == var.bandwidth_mbit
    error_message = "bandwidth_mbit must be a whole number from 1 to 300 (the limit of a dedicated EIP bandwidth)."
  }
}

variable "huawei_enterprise_project_id" {
  description = "Enterprise project that receives the resources; empty means the account's default project (0)."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^([0-9]|[0-9a-f-]{36})?$", var.huawei_enterprise_project_id))
    error_message = "huawei_enterprise_project_id must be empty, 0 or an enterprise project UUID."
  }
}
