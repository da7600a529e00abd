output "repository_id" {
  description = "Repository name."
  value       = google_artifact_registry_repository.this.repository_id
}

output "image_base" {
  description = "Prefix of every image in the repository: <region>-docker.pkg.dev/<project>/<repository>."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.this.repository_id}"
}
