/**
 * Several agents run as one (Aeron's CompositeAgent): doWork() gives each a turn, in order, and
 * returns the sum. A worker that runs fused stages hands its runner one of these.
 *
 * Threading contract: the runner's thread only, like the agents it holds.
 */
import type { Agent } from './agent-runner';

export class CompositeAgent implements Agent {
  readonly roleName: string;
  private readonly agents: Agent[];

  constructor(agents: readonly Agent[]) {
    this.agents = agents.slice();
    this.roleName = this.agents.map((a) => a.roleName).join('+');
  }

  doWork(): number {
    const agents = this.agents;
    let work = 0;
    for (let i = 0; i < agents.length; i++) work += agents[i].doWork();
    return work;
  }

  onClose(): void {
    for (const a of this.agents) if (a.onClose) a.onClose();
  }
}
