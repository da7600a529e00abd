# 1.11 is the first OpenTofu with write-only arguments (the Redis AUTH string goes to Secret
# Manager without a second copy in state).
terraform {
  required_version = ">= 1.11.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 7.45.0, < 8.0.0"
    }
  }
}
