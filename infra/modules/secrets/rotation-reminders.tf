# Reminders that a secret is due for rotation. Secret Manager publishes every event of a secret
# that names this topic (versions added, enabled, disabled, ...); the subscription keeps only
# SECRET_ROTATE, and the monitoring module alerts while one is waiting there. The rotation
# acknowledges its secret's reminders, which closes the alert.

resource "google_pubsub_topic" "rotation_reminders" {
  project = var.project_id
  name    = "secret-rotation-reminders"
  labels  = merge(var.labels, { managed-by = "opentofu" })
}

# The Secret Manager service agent publishes the events. It exists once the bootstrap has run
# `gcloud beta services identity create --service=secretmanager.googleapis.com` (the provider
# creates service identities only in its beta flavour).
resource "google_pubsub_topic_iam_member" "secret_manager_publishes" {
  project = var.project_id
  topic   = google_pubsub_topic.rotation_reminders.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:service-${var.project_number}@gcp-sa-secretmanager.iam.gserviceaccount.com"
}

resource "google_pubsub_subscription" "rotation_due" {
  project = var.project_id
  name    = var.rotation_subscription
  topic   = google_pubsub_topic.rotation_reminders.id
  labels  = merge(var.labels, { managed-by = "opentofu" })

  filter = "attributes.eventType = \"SECRET_ROTATE\""

  # A reminder waits up to a week (the alert stays open meanwhile); nobody pulls in between,
  # so the subscription must not expire for inactivity (the default is 31 days).
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60
  expiration_policy {
    ttl = ""
  }
}
