import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { ChildOrder } from '../../lib/router/order-router';
import type { OrderManager } from '../../lib/router/order-manager';

describe('router send path: one hidden class for every router\'s VenueOrder', function () {
  this.timeout(60000);

  it('two routers in one process hand their connectors VenueOrders with the same map, whose spread copies carry the child id', () => {
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', path.join(__dirname, 'send-path-maps-child.js')],
      { encoding: 'utf8', timeout: 60000 });
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { sameMap: boolean; distinctObjects: boolean; idA: string; idB: string };
    expect(out.distinctObjects).to.equal(true);
    expect(out.sameMap, 'a map per router makes every access on the send path polymorphic').to.equal(true);
    expect(out.idA).to.match(/^C[0-9a-z]{8}1$/);
    expect(out.idB).to.match(/^C[0-9a-z]{8}1$/);
  });

  it('clOrdId is an own enumerable accessor whose getter is shared by every ChildOrder, reading the current slot', () => {
    const om = { idOf: (s: number) => `C${s}` } as unknown as OrderManager;
    const x = new ChildOrder(om);
    const y = new ChildOrder(om);
    x.slot = 3; y.slot = 4;
    const dx = Object.getOwnPropertyDescriptor(x, 'clOrdId');
    const dy = Object.getOwnPropertyDescriptor(y, 'clOrdId');
    expect(dx?.enumerable).to.equal(true);
    expect(dx?.get).to.equal(dy?.get);
    expect(x.clOrdId).to.equal('C3');
    expect({ ...y }.clOrdId).to.equal('C4');
    y.slot = 7;
    expect(y.clOrdId).to.equal('C7');
  });
});
