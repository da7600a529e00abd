# The runbooks create the secrets whose values a person or the Supabase project provides (make
# production-secrets, make production-supabase) before the first apply, so that every service
# finds a value when it first starts. OpenTofu adopts them here; once a secret is in the state
# its import block does nothing.

import {
  for_each = toset([for secret in local.secret_names : secret if !contains(local.tofu_written_secrets, secret)])
  to       = module.secrets.google_secret_manager_secret.this[each.value]
  id       = "projects/${var.project_id}/secrets/${each.value}"
}

# The bootstrap creates the image repository, so CI can push the first release before any
# apply; OpenTofu adopts it and keeps its scanning and cleanup settings as code.
import {
  to = module.registry.google_artifact_registry_repository.this
  id = "projects/${var.project_id}/locations/${var.region}/repositories/mindmirror"
}
