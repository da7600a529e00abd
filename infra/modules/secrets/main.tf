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
}

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = local.grants

  project   = var.project_id
  secret_id = google_secret_manager_secret.this[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value.member
}
