/** Overview: monitors up/down/paused, 24 h runs and failures, recent failures, slowest monitors, region health. */
export function OverviewPage() {
  return <h1>Overview</h1>;
}
