# Outputs read by the runner after apply (`tofu output -json`). Written into every provider's
# workspace.

output "kubeconfig" {
  description = "Admin kubeconfig for the cluster (server = load balancer on 6443, client certificate in group system:masters)."
  value       = local.kubeconfig
  sensitive   = true
}

output "cluster_name" {
  description = "Cluster and kube context name."
  value       = var.cluster_name
}

output "api_endpoint" {
  description = "Kubernetes API URL through the load balancer."
  value       = "https://${local.api_public_host}:6443"
}

output "load_balancer_ip" {
  description = "Public address of the load balancer (API on 6443, ingress on 80/443)."
  value       = local.api_public_host
}

output "control_plane_private_ips" {
  description = "Private addresses of the control-plane nodes."
  value       = local.control_plane_ips
}

output "worker_private_ips" {
  description = "Private addresses of the worker nodes."
  value       = local.worker_ips
}

output "control_plane_public_ips" {
  description = "Public addresses of the control-plane nodes (ssh from ssh_allowed_cidrs only)."
  value       = local.control_plane_public_ips
}

output "network_cidr" {
  description = "Private network of the cluster, for the other region's WireGuard peer allowed_ips."
  value       = var.network_cidr
}

output "wireguard_endpoint" {
  description = "host:port of this region's WireGuard gateway, or empty without a mesh. The other region's peer endpoint."
  value       = var.wireguard == null ? "" : "${local.control_plane_public_ips[0]}:${var.wireguard.listen_port}"
}

output "server_ca_certificate" {
  description = "PEM of the cluster's server CA, to pin the API server."
  value       = tls_self_signed_cert.ca["server"].cert_pem
}
