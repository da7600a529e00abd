# Secret Manager secrets as empty containers, readable only by the accounts that mount them.
# Values are added with `gcloud secrets versions add` by the bootstrap, so no secret value is
# ever a tofu variable or lands in state.

locals {
  # Flattened to one key per (secret, caller); the keys are names, known at plan time, even
  # though the members (service account emails) are not.
  grants = merge([
    for secret, callers in var.accessors : {
      for caller, member in callers : "${secret}/${caller}" => { secret = secret, member = member }
    }
  ]...)
}

resource "google_secret_manager_secret" "this" {
  for_each = toset(var.secret_ids)

  project   = var.project_id
  secret_id = each.value
  labels    = merge(var.labels, { managed-by = "opentofu" })

  replication {
    auto {}
  }

  # A secret with a maximum age gets Secret Manager's rotation schedule: when it is due, Secret
  # Manager publishes SECRET_ROTATE to the reminders topic (rotation-reminders.tf). Secret
  # Manager never changes a value itself; the reminder asks a person to run the rotation.
  dynamic "rotation" {
    for_each = contains(keys(var.rotation_days), each.value) ? [var.rotation_days[each.value]] : []
    content {
      rotation_period    = "${rotation.value * 86400}s"
      next_rotation_time = timeadd(timestamp(), "${rotation.value * 24}h")
    }
  }

  dynamic "topics" {
    for_each = contains(keys(var.rotation_days), each.value) ? [google_pubsub_topic.rotation_reminders.id] : []
    content {
      name = topics.value
    }
  }

  lifecycle {
    # Set once here; from then on Secret Manager moves it one period on at each reminder, and
    # make production-rotate-secret moves it to a full period after the rotation it just did.
    ignore_changes = [rotation[0].next_rotation_time]
  }

  # Secret Manager refuses a topic its service agent may not publish to.
  depends_on = [google_pubsub_topic_iam_member.secret_manager_publishes]
}

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = local.grants

  project   = var.project_id
  secret_id = google_secret_manager_secret.this[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value.member
}
