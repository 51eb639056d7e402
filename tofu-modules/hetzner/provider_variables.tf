# Hetzner Cloud inputs. The names location, control_plane_size and worker_size are part of the
# shared contract; their allowed values are Hetzner's.

variable "hcloud_token" {
  description = "Hetzner Cloud API token (read/write). Secret: passed only as TF_VAR_hcloud_token."
  type        = string
  sensitive   = true
  validation {
    condition     = length(var.hcloud_token) == 64
    error_message = "hcloud_token must be a 64-character Hetzner Cloud API token."
  }
}

variable "location" {
  description = "Hetzner location: fsn1, nbg1, hel1, ash or hil."
  type        = string
  validation {
    condition     = contains(["fsn1", "nbg1", "hel1", "ash", "hil"], var.location)
    error_message = "location must be one of fsn1, nbg1, hel1, ash, hil."
  }
}

variable "control_plane_size" {
  description = "Server type of the control-plane nodes, e.g. cpx32 (8 GB is the minimum that survives bootstrap)."
  type        = string
  validation {
    condition     = can(regex("^(cx|cpx|ccx|cax)[0-9]+$", var.control_plane_size))
    error_message = "control_plane_size must be a Hetzner server type such as cpx32, cx43, ccx33 or cax31."
  }
}

variable "worker_size" {
  description = "Server type of the worker nodes, e.g. cpx32."
  type        = string
  validation {
    condition     = can(regex("^(cx|cpx|ccx|cax)[0-9]+$", var.worker_size))
    error_message = "worker_size must be a Hetzner server type such as cpx32, cx43, ccx33 or cax31."
  }
}

variable "load_balancer_type" {
  description = "Hetzner load balancer type."
  type        = string
  default     = "lb11"
  validation {
    condition     = contains(["lb11", "lb21", "lb31"], var.load_balancer_type)
    error_message = "load_balancer_type must be one of lb11, lb21, lb31."
  }
}

variable "image" {
  description = "Server image."
  type        = string
  default     = "ubuntu-24.04"
}
