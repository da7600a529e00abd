output "secret_ids" {
  description = "Secret id by name, available once every accessor grant exists: a service that mounts a secret takes it from here, so its revision never starts before it may read the secret."
  value       = { for name, secret in google_secret_manager_secret.this : name => secret.secret_id }
  depends_on  = [google_secret_manager_secret_iam_member.accessor]
}

output "ids" {
  description = "Secret id by name, without waiting for the accessor grants: for writing versions, not for mounting."
  value       = { for name, secret in google_secret_manager_secret.this : name => secret.secret_id }
}

output "names" {
  description = "Every secret id this module manages (names only, never values)."
  value       = sort(keys(google_secret_manager_secret.this))
}

output "rotation_subscription" {
  description = "The subscription holding the secrets' rotation reminders."
  value       = google_pubsub_subscription.rotation_due.name
}
