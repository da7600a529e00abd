output "name" {
  description = "Cloud Run service name."
  value       = google_cloud_run_v2_service.this.name
}

output "uri" {
  description = "HTTPS URL of the service (run.app)."
  value       = google_cloud_run_v2_service.this.uri
}

output "id" {
  description = "Resource id of the service."
  value       = google_cloud_run_v2_service.this.id
}

output "service_account_email" {
  description = "Email of the service's own runtime account."
  value       = google_service_account.this.email
}

output "service_account_member" {
  description = "The runtime account as an IAM member (serviceAccount:...)."
  value       = google_service_account.this.member
}

output "service_account_id" {
  description = "Fully qualified id of the runtime account, for grants on the account itself."
  value       = google_service_account.this.name
}
