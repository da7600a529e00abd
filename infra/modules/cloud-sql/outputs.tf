output "name" {
  description = "Instance name, for gcloud sql backups/instances commands."
  value       = google_sql_database_instance.this.name
}

output "connection_name" {
  description = "project:region:instance."
  value       = google_sql_database_instance.this.connection_name
}

output "private_ip" {
  description = "Private address the services connect to."
  value       = google_sql_database_instance.this.private_ip_address
}

output "databases" {
  description = "Database names on the instance."
  value       = sort([for db in google_sql_database.this : db.name])
}

output "access_job" {
  description = "Cloud Run job that applies database-access.sql (gcloud run jobs execute NAME --wait)."
  value       = module.access_job.name
}

output "access_job_member" {
  description = "IAM member of the job's account, granted read on the secrets it mounts."
  value       = google_service_account.access_job.member
}

output "check_job" {
  description = "Cloud Run job that prints each database's alembic revision and row counts (the restore runbooks verify with it)."
  value       = module.check_job.name
}

output "url_secrets" {
  description = "\"<service>/<database>\" => its URL secret's id, once the secret holds a URL and its readers may read it: services and migration jobs mount from here, so none starts before its URL exists."
  value       = { for key, secret in var.url_secret_ids : key => var.mount_secret_ids[secret] }
  depends_on  = [google_secret_manager_secret_version.database_url]
}
