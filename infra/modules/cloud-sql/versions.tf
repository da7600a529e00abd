# 1.11 is the first OpenTofu with write-only arguments and ephemeral resources: the passwords
# generated here reach Cloud SQL and Secret Manager without being stored in state.
terraform {
  required_version = ">= 1.11.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 7.45.0, < 8.0.0"
    }
    # ephemeral "random_password" needs 3.7.1 or newer.
    random = {
      source  = "hashicorp/random"
      version = ">= 3.7.1, < 4.0.0"
    }
  }
}
