// HerzHTTP: SwiftNIO adapters (listeners, proxying, upstream pools, admin).
