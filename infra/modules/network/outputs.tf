output "network_id" {
  description = "Id of the VPC."
  value       = google_compute_network.this.id
}

output "network_name" {
  description = "Name of the VPC."
  value       = google_compute_network.this.name
}

output "subnet_id" {
  description = "Id of the subnet Cloud Run sends traffic into."
  value       = google_compute_subnetwork.run.id
}

output "private_services_network_id" {
  description = "The VPC id, available only once private services access is connected: resources that need the peering (Memorystore) take this one."
  value       = google_compute_network.this.id
  depends_on  = [google_service_networking_connection.private_services]
}

output "private_services_range" {
  description = "Name of the range reserved for private services access."
  value       = google_compute_global_address.private_services.name
}

output "run_app_zone" {
  description = "Name of the private run.app DNS zone."
  value       = google_dns_managed_zone.run_app.name
}
