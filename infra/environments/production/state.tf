# The state bucket is created by the bootstrap before the first `tofu init` (a backend cannot
# create its own bucket). Importing it here keeps its safety settings as code: a plan shows any
# drift, such as versioning switched off, and prevent_destroy keeps tofu from deleting it.

import {
  to = google_storage_bucket.state
  id = var.state_bucket
}

resource "google_storage_bucket" "state" {
  project                     = var.project_id
  name                        = var.state_bucket
  location                    = upper(var.region)
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = local.labels

  # Every overwrite keeps the previous state as a noncurrent version: a bad apply can be undone.
  versioning {
    enabled = true
  }

  # Keep the last 50 states and anything from the last 90 days; older noncurrent versions go.
  lifecycle_rule {
    condition {
      num_newer_versions         = 50
      days_since_noncurrent_time = 90
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}

# The deployer reads and writes state and its lock object, in this bucket only.
resource "google_storage_bucket_iam_member" "deployer_state" {
  bucket = google_storage_bucket.state.name
  role   = "roles/storage.objectAdmin"
  member = module.ci_identity.deployer_member
}

# The drift check reads the state without locking it (its plan runs with -lock=false).
resource "google_storage_bucket_iam_member" "drift_checker_state" {
  bucket = google_storage_bucket.state.name
  role   = "roles/storage.objectViewer"
  member = module.ci_identity.drift_checker_member
}
