# State lives in a GCS bucket created by the bootstrap (versioning on, uniform access, public
# access prevented). Bucket and prefix come from the command line so one configuration serves
# any project:
#   tofu init -backend-config=bucket=$STATE_BUCKET -backend-config=prefix=$STATE_PREFIX
terraform {
  backend "gcs" {}
}
