terraform {
  required_version = ">= 1.10.0"

  required_providers {
    huaweicloud = {
      source  = "huaweicloud/huaweicloud"
      version = "~> 1.60"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "huaweicloud" {
  region     = var.location
  access_key = var.huawei_access_key
  secret_key = var.huawei_secret_key

  enterprise_project_id = var.huawei_enterprise_project_id == "" ? null : var.huawei_enterprise_project_id
}
