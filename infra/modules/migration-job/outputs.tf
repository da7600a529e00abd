output "name" {
  description = "Job name, for `gcloud run jobs execute NAME --region REGION --wait`."
  value       = google_cloud_run_v2_job.this.name
}

output "id" {
  description = "Resource id of the job."
  value       = google_cloud_run_v2_job.this.id
}
