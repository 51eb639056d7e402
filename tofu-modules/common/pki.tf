# Cluster identity created inside the module, so the kubeconfig is an output and the operator's
# machine never has to accept a connection from the new nodes. k3s keeps three CAs; when their
# files exist before its first start it issues every serving and component certificate from them
# instead of generating its own. This file is written into every provider's workspace.
#
# The CA private keys live in the OpenTofu state: the state backend must be encrypted and
# access-controlled (see README.md).

locals {
  k3s_cas = toset(["server", "client", "request-header"])
}

resource "tls_private_key" "ca" {
  for_each    = local.k3s_cas
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_self_signed_cert" "ca" {
  for_each          = local.k3s_cas
  private_key_pem   = tls_private_key.ca[each.key].private_key_pem
  is_ca_certificate = true

  subject {
    common_name  = "k3s-${each.key}-ca@${var.cluster_name}"
    organization = var.organization
  }

  # Ten years, like the CAs k3s would generate itself; rotation is a day-2 operation.
  validity_period_hours = 87600
  early_renewal_hours   = 0
  allowed_uses          = ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"]
}

resource "tls_private_key" "admin" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_cert_request" "admin" {
  private_key_pem = tls_private_key.admin.private_key_pem
  subject {
    common_name  = "openova-admin"
    organization = "system:masters"
  }
}

resource "tls_locally_signed_cert" "admin" {
  cert_request_pem   = tls_cert_request.admin.cert_request_pem
  ca_private_key_pem = tls_private_key.ca["client"].private_key_pem
  ca_cert_pem        = tls_self_signed_cert.ca["client"].cert_pem

  # One year; a later apply within the renewal window issues a new one and a new kubeconfig.
  validity_period_hours = 8760
  early_renewal_hours   = 720
  allowed_uses          = ["client_auth", "digital_signature", "key_encipherment"]
}

resource "random_password" "k3s_token" {
  length  = 48
  special = false
}

locals {
  # Joining nodes use k3s's secure token format, which pins the server CA: K10<sha256 of the CA
  # file as written to disk>::server:<secret>. The first server is started with the bare secret.
  k3s_join_token = "K10${sha256(tls_self_signed_cert.ca["server"].cert_pem)}::server:${random_password.k3s_token.result}"

  # Written only to the first control-plane node, before k3s starts.
  k3s_ca_files = merge([
    for ca in local.k3s_cas : {
      "/var/lib/rancher/k3s/server/tls/${ca}-ca.crt" = tls_self_signed_cert.ca[ca].cert_pem
      "/var/lib/rancher/k3s/server/tls/${ca}-ca.key" = tls_private_key.ca[ca].private_key_pem
    }
  ]...)

  kubeconfig = yamlencode({
    apiVersion      = "v1"
    kind            = "Config"
    current-context = var.cluster_name
    clusters = [{
      name = var.cluster_name
      cluster = {
        server                     = "https://${local.api_public_host}:6443"
        certificate-authority-data = base64encode(tls_self_signed_cert.ca["server"].cert_pem)
      }
    }]
    users = [{
      name = "${var.cluster_name}-admin"
      user = {
        client-certificate-data = base64encode(tls_locally_signed_cert.admin.cert_pem)
        client-key-data         = base64encode(tls_private_key.admin.private_key_pem)
      }
    }]
    contexts = [{
      name = var.cluster_name
      context = {
        cluster = var.cluster_name
        user    = "${var.cluster_name}-admin"
      }
    }]
  })
}
