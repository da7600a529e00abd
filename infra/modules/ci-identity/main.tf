# GitHub Actions deploys without a key: the workflow's OIDC token is exchanged through
# Workload Identity Federation for a short-lived token of the deployer account, and only for
# jobs of one repository running in its production environment. The daily drift check gets a
# token of a second, read-only account, and only from its own environment.

locals {
  workflows = "${var.github_repository}/.github/workflows"
}

resource "google_iam_workload_identity_pool" "github" {
  project                   = var.project_id
  workload_identity_pool_id = var.pool_id
  display_name              = "GitHub Actions"
  description               = "Identities of GitHub Actions workflows."
}

resource "google_iam_workload_identity_pool_provider" "github" {
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = var.provider_id
  display_name                       = "GitHub OIDC"
  description                        = "Tokens of ${var.github_repository} workflows in the ${var.github_environment} environment."

  attribute_mapping = {
    "google.subject"         = "assertion.sub"
    "attribute.repository"   = "assertion.repository"
    "attribute.environment"  = "assertion.environment"
    "attribute.ref"          = "assertion.ref"
    "attribute.workflow_ref" = "assertion.job_workflow_ref"
  }

  # Without a condition any GitHub repository could exchange its tokens here. The repository is
  # named by its numeric ids as well as its name (a deleted repository's name can be registered
  # again by someone else), and only the workflows that need a token, at the refs they run from,
  # get one: deploy.yml for release tags, rollback.yml and drift.yml from main.
  attribute_condition = join(" && ", [
    "assertion.repository == \"${var.github_repository}\"",
    "assertion.repository_id == \"${var.github_repository_id}\"",
    "assertion.repository_owner_id == \"${var.github_repository_owner_id}\"",
    join("", [
      "((assertion.environment == \"${var.github_environment}\" && (assertion.job_workflow_ref.startsWith(\"${local.workflows}/deploy.yml@refs/tags/v\") || assertion.job_workflow_ref == \"${local.workflows}/rollback.yml@refs/heads/main\"))",
      " || (assertion.environment == \"${var.drift_environment}\" && assertion.job_workflow_ref == \"${local.workflows}/drift.yml@refs/heads/main\"))",
    ]),
  ])

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = var.deployer_account_id
  display_name = "Release deployer"
  description  = "Used by GitHub Actions through Workload Identity Federation to ship releases."
}

# Per environment, not per repository: a drift-check job must never become the deployer. The
# pool's condition already admits this repository's tokens only.
resource "google_service_account_iam_member" "github_impersonation" {
  service_account_id = google_service_account.deployer.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.environment/${var.github_environment}"
}

resource "google_project_iam_member" "deployer" {
  for_each = toset(var.deployer_project_roles)

  project = var.project_id
  role    = each.value
  member  = google_service_account.deployer.member
}

# Deploying a revision that runs as an account needs actAs on that account; granted per
# runtime account so the deployer cannot act as anything else in the project.
resource "google_service_account_iam_member" "deployer_acts_as" {
  for_each = var.runtime_service_accounts

  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.deployer.member
}

# The drift check plans against the live state: it reads everything a plan refreshes and
# changes nothing. Viewer carries no secret payloads; reading the Memorystore instance also reads
# its AUTH string (redis.instances.getAuthString), which only Redis Editor carries among the
# predefined roles, so a custom role grants that one read. The state (which holds that string
# anyway) is readable through the state bucket grant in the production configuration.
resource "google_service_account" "drift_checker" {
  project      = var.project_id
  account_id   = var.drift_account_id
  display_name = "Drift checker (read-only)"
  description  = "Used by the daily drift check through Workload Identity Federation: plans, never applies."
}

resource "google_service_account_iam_member" "drift_impersonation" {
  service_account_id = google_service_account.drift_checker.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.environment/${var.drift_environment}"
}

resource "google_project_iam_custom_role" "redis_auth_reader" {
  project     = var.project_id
  role_id     = "redisAuthReader"
  title       = "Redis AUTH reader"
  description = "Read a Memorystore instance and its AUTH string, as a plan's refresh does; nothing else."
  permissions = ["redis.instances.get", "redis.instances.getAuthString", "redis.instances.list"]
}

resource "google_project_iam_member" "drift_checker" {
  # Keys known at plan time; the custom role's name is known only once it exists.
  for_each = {
    viewer            = "roles/viewer"
    redis_auth_reader = google_project_iam_custom_role.redis_auth_reader.name
  }

  project = var.project_id
  role    = each.value
  member  = google_service_account.drift_checker.member
}
