// The monthly cost estimate shown before apply (filled in from the price table with infra/).
export function estimateCost(_planJson: string): string {
  return '';
}
