// A port a gateway cannot bind is reported naming the Gateway and listener.
import { describe, expect, it } from 'vitest';
import { explainListenerError } from '../../cli/run-command.js';
import { inputsOf, translate } from '../../controller/translator/index.js';
import { gateway, gatewayClass, httpListener } from '../support/k8s.js';

describe('listener errors', () => {
  it('name the Gateway listeners behind the port a gateway could not bind', () => {
    const { ir } = translate(
      inputsOf([
        gatewayClass(),
        gateway(
          'web',
          [httpListener(80, 'public', 'a.example'), httpListener(80, 'private', 'b.example')],
          'shop',
        ),
      ]),
      { now: 'x' },
    );
    expect(
      explainListenerError(
        ir,
        'shop/web',
        'Listener http-80: cannot listen on 127.0.10.1 port 80: EACCES',
      ),
    ).toBe(
      'Gateway shop/web listener private, Gateway shop/web listener public (port 80): cannot listen on 127.0.10.1 port 80: EACCES',
    );
    expect(explainListenerError(ir, 'shop/web', 'Cluster x: bad')).toBe('Cluster x: bad');
  });
});
