provider "google" {
  project = var.project_id
  region  = var.region
  # The Billing Budgets API refuses user credentials unless a quota project is named.
  billing_project       = var.project_id
  user_project_override = true

  default_labels = {
    app         = "mindmirror"
    environment = "production"
  }
}

data "google_project" "this" {
  project_id = var.project_id
}
