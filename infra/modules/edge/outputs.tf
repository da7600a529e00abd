output "ip_address" {
  description = "The load balancer's address: the domain's DNS A record points here."
  value       = google_compute_global_address.this.address
}

output "url" {
  description = "The public URL the apps call."
  value       = "https://${var.domain}"
}

output "security_policy" {
  description = "Name of the Cloud Armor policy (gcloud compute security-policies describe)."
  value       = google_compute_security_policy.this.name
}

output "certificate" {
  description = "Name of the managed certificate (gcloud compute ssl-certificates describe; ACTIVE once DNS points here)."
  value       = google_compute_managed_ssl_certificate.this.name
}
