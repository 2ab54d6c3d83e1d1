// The ADS client stub, built from the same protobufjs root the gateway
// decodes resources with (xds/proto/root.ts), so Envoy's protos are parsed
// once per process rather than a second time by @grpc/proto-loader: start-up
// time is part of "a restarted gateway is whole again in about a second".
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { lookupType } from '../../xds/proto/root.js';
import type { DeltaDiscoveryRequest } from '../../xds/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest.js';
import type { DeltaDiscoveryResponse__Output } from '../../xds/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse.js';
import type { DiscoveryRequest } from '../../xds/generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import type { DiscoveryResponse__Output } from '../../xds/generated/envoy/service/discovery/v3/DiscoveryResponse.js';

export type DeltaStream = grpc.ClientDuplexStream<
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse__Output
>;
export type SotwStream = grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>;

export interface AdsStub extends grpc.Client {
  DeltaAggregatedResources(): DeltaStream;
  StreamAggregatedResources(): SotwStream;
}

/** Field names as in the protos (snake_case), like the generated `__Output` types. */
const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
};

const SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

function method(
  name: string,
  request: string,
  response: string,
): grpc.MethodDefinition<object, object> {
  const req = lookupType(`envoy.service.discovery.v3.${request}`);
  const res = lookupType(`envoy.service.discovery.v3.${response}`);
  return {
    path: `/${SERVICE}/${name}`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (o) => Buffer.from(req.encode(req.fromObject(o)).finish()),
    requestDeserialize: (b) => req.toObject(req.decode(b), TO_OBJECT),
    responseSerialize: (o) => Buffer.from(res.encode(res.fromObject(o)).finish()),
    responseDeserialize: (b) => res.toObject(res.decode(b), TO_OBJECT),
  };
}

let ctor: grpc.ServiceClientConstructor | undefined;

/** The AggregatedDiscoveryService client constructor. */
export function adsClientConstructor(): new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => AdsStub {
  ctor ??= grpc.makeGenericClientConstructor(
    {
      StreamAggregatedResources: method(
        'StreamAggregatedResources',
        'DiscoveryRequest',
        'DiscoveryResponse',
      ),
      DeltaAggregatedResources: method(
        'DeltaAggregatedResources',
        'DeltaDiscoveryRequest',
        'DeltaDiscoveryResponse',
      ),
    },
    SERVICE,
  );
  return ctor as unknown as new (
    address: string,
    credentials: grpc.ChannelCredentials,
    options?: grpc.ChannelOptions,
  ) => AdsStub;
}
