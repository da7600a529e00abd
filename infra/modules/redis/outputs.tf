output "host" {
  description = "Private IP address of the instance."
  value       = google_redis_instance.this.host
}

output "port" {
  description = "Port of the instance."
  value       = google_redis_instance.this.port
}

output "name" {
  description = "Instance name, for `gcloud redis instances get-auth-string`."
  value       = google_redis_instance.this.name
}

output "auth_secret_version" {
  description = "Secret Manager version holding the AUTH string; services that mount it wait for it."
  value       = google_secret_manager_secret_version.auth.name
}

output "id" {
  description = "Resource id of the instance."
  value       = google_redis_instance.this.id
}
