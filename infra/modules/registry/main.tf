# One Docker repository for every service's image: scanned for vulnerabilities, tags immutable
# (a release tag always means the same image, so a rollback redeploys exactly what ran), and
# cleaned up so storage stays small without ever touching a release.

resource "google_artifact_registry_repository" "this" {
  project                = var.project_id
  location               = var.region
  repository_id          = var.repository_id
  description            = "Container images of the MindMirror services and gateway."
  format                 = "DOCKER"
  cleanup_policy_dry_run = var.cleanup_dry_run
  labels                 = merge(var.labels, { managed-by = "opentofu" })

  docker_config {
    immutable_tags = true
  }

  vulnerability_scanning_config {
    enablement_config = "INHERITED"
  }

  # KEEP policies win over DELETE ones: releases and the newest versions survive any deletion.
  cleanup_policies {
    id     = "keep-release-tags"
    action = "KEEP"
    condition {
      tag_state    = "TAGGED"
      tag_prefixes = var.release_tag_prefixes
    }
  }

  cleanup_policies {
    id     = "keep-most-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = var.keep_count
    }
  }

  cleanup_policies {
    id     = "delete-untagged"
    action = "DELETE"
    condition {
      tag_state  = "UNTAGGED"
      older_than = "${var.untagged_max_age_days * 86400}s"
    }
  }

  cleanup_policies {
    id     = "delete-old-tagged"
    action = "DELETE"
    condition {
      tag_state  = "TAGGED"
      older_than = "${var.tagged_max_age_days * 86400}s"
    }
  }
}

resource "google_artifact_registry_repository_iam_member" "writer" {
  for_each = var.writers

  project    = var.project_id
  location   = google_artifact_registry_repository.this.location
  repository = google_artifact_registry_repository.this.name
  role       = "roles/artifactregistry.writer"
  member     = each.value
}
