import HerzCore
import NIOCore
import NIOHTTP1

/// Routing, upstream attempts, retries and timeouts of a ``ProxyStream``.
extension ProxyStream {
    // MARK: request → upstream

    func routeAndForward(_ head: HTTPRequestHead, endStream: Bool) {
        route = streamInfo.route
        guard let route else {
            localReply(.notFound, "no route for \(head.headers.first(name: "host") ?? "") \(head.uri)\n")
            return
        }
        guard let name = selectCluster(for: route, headers: head.headers, random: worker.random.next()),
              let cluster = worker.cluster(named: name, in: snapshot) else {
            localReply(.serviceUnavailable, "cluster not found\n")
            return
        }
        clusterName = name
        self.cluster = cluster
        var upstream = head
        applyRewrites(for: route, to: &upstream)
        if !route.requestHeaders.isEmpty { ProxyHeaderPolicy.apply(route.requestHeaders, to: &upstream.headers) }
        ProxyHeaderPolicy.prepareUpstreamRequest(&upstream.headers, clientAddress: streamInfo.clientAddress,
                                                 scheme: streamInfo.scheme, requestID: streamInfo.requestID)
        // The outgoing trace context, written while this head is still the only copy; a sampled
        // request's attempts each name their own client span instead (tracedAttemptHead).
        if let traceContext { TraceContextCodec.inject(traceContext, parentSpanID: traceSpanID, into: &upstream.headers) }
        // NIO's head setters copy the head's storage even when the value does not change.
        if cluster.shared.config.upstreamProtocol == .http1 && upstream.version != .http1_1 { upstream.version = .http1_1 }
        if head.headers.first(name: "expect")?.lowercased() == "100-continue" && !endStream {
            responder?.sendContinue()
        }
        upstreamHead = upstream
        requestHasBody = !endStream
        if !route.mirrorPolicies.isEmpty { startMirrors(route, head: upstream, endStream: endStream) }
        hashKey = computeHashKey(policies: route.hashPolicy, headers: head.headers, clientIP: streamInfo.clientAddress)
        if endStream {
            pendingEnd = true  // a body-less request still ends explicitly (HTTP/2 END_STREAM)
            startRouteTimer()
        }
        attempt()
    }

    func forwardBody(_ data: ByteBuffer, endStream: Bool) {
        if !mirrors.isEmpty { mirrorBody(data, endStream: endStream) }
        if retainable {
            retainedBytes += data.readableBytes
            if retainedBytes > Self.retainLimit {
                retainable = false
                retainedBody.removeAll()
            } else if data.readableBytes > 0 {
                retainedBody.append(data)
            }
        }
        if data.readableBytes > 0 { forwardRequestPart(.body(.byteBuffer(data))) }
        if endStream {
            forwardRequestPart(.end(nil))
            requestFullyForwarded()
        }
    }

    func requestFullyForwarded() {
        if routeDeadline == nil { startRouteTimer() }
    }

    /// Writes to the upstream, or queues while the connection is not there yet (bounded: over the
    /// buffer limit the downstream stops being read).
    func forwardRequestPart(_ part: HTTPClientRequestPart) {
        if let exchange {
            exchange.write(part)
            return
        }
        guard upstreamHead != nil else { return }  // a local reply is on its way
        pendingBody.append(part)
        if case .body(.byteBuffer(let buffer)) = part {
            pendingBytes += buffer.readableBytes
            if pendingBytes > listener.config.limits.bufferLimitBytes {
                setGate(.downstream, .pendingQueueFull, true)
            }
        }
    }

    // MARK: attempts

    func attempt() {
        guard !finished, let cluster, let upstreamHead else { return }
        attempts += 1
        if let last = lastTriedEndpoint { triedEndpoints.append(last) }  // a retry avoids every earlier endpoint
        guard let endpoint = cluster.pick(hashKey: hashKey, excluded: triedEndpoints,
                                          metadataMatch: route?.metadataMatch ?? [:]) else {
            upstreamFailedBeforeResponse(.connectFailure("no healthy upstream"), retryable: false, overloaded: false)
            return
        }
        lastTriedEndpoint = endpoint
        if !countedActiveRequest {
            let active = cluster.shared.activeRequests.loadThenWrappingIncrement(ordering: .relaxed)
            countedActiveRequest = true
            if active >= cluster.shared.config.circuitBreakers.maxRequests {
                upstreamFailedBeforeResponse(.overflow("max_requests reached"), retryable: false, overloaded: true)
                return
            }
        }
        switch cluster.requestStarted(endpoint) {
        case .started(let attempt): currentAttempt = attempt
        case .refusedByBreaker(let phase, let retryAfter):
            failureReason = "cluster circuit breaker \(phase.rawValue)"
            let reply = FlowBreakerReply(cluster: cluster.shared.config.name, phase: phase, retryAfterNanos: retryAfter)
            localReply(.serviceUnavailable, reply.body, headers: HTTPHeaders(reply.headers))
            return
        }
        let head = streamInfo.trace == nil ? upstreamHead : tracedAttemptHead(upstreamHead, endpoint: endpoint)
        startTryTimer()
        let pool = cluster.pool(for: endpoint)
        if let exchange = pool.takeIdle() {
            connected(.success(exchange), endpoint: endpoint, head: head)
            return
        }
        let id = pool.acquire { [weak self] result in
            guard let self else {
                if case .success(let exchange) = result { exchange.release(reusable: true) }
                return
            }
            self.waiter = nil
            self.connected(result, endpoint: endpoint, head: head)
        }
        if let id { waiter = (pool, id) }
    }

    private func connected(_ result: Result<UpstreamExchange, UpstreamFailure>, endpoint: Int, head: HTTPRequestHead) {
        switch result {
        case .failure(let failure):
            endAttempt(.connectFailure)
            if case .overflow = failure {
                upstreamFailedBeforeResponse(failure, retryable: false, overloaded: true)
            } else {
                upstreamFailedBeforeResponse(failure, retryable: true, overloaded: false)
            }
        case .success(let exchange):
            guard !finished else {
                exchange.release(reusable: true)
                endAttempt(.cancelled)
                return
            }
            self.exchange = exchange
            exchange.attach(self)
            exchange.writeHead(head, hasBody: requestHasBody)
            if attempts > 1 {
                // A retry replays the retained body (pendingBody only holds parts sent after it).
                // Every body part forwarded so far is retained (or retries are off), so the queue
                // only holds duplicates of it.
                for chunk in retainedBody { exchange.write(.body(.byteBuffer(chunk))) }
                if forwardedRequestEnd { exchange.write(.end(nil)) }
            } else {
                for part in pendingBody { exchange.write(part) }
                if pendingEnd { exchange.write(.end(nil)) }
            }
            pendingEnd = false
            if !pendingBody.isEmpty { pendingBody.removeAll() }
            pendingBytes = 0
            setGate(.downstream, .pendingQueueFull, false)
            if !upstreamGate.reasons.isEmpty { exchange.setReading(false) }
            exchange.flush()
        }
    }

    /// Ends the current attempt's accounting (balancer, stats, outlier detection) exactly once.
    func endAttempt(_ outcome: WorkerCluster.AttemptOutcome) {
        guard let attempt = currentAttempt else { return }
        currentAttempt = nil
        if upstreamSpan != nil { traceAttemptEnded(outcome) }
        cluster?.requestFinished(attempt, outcome: outcome)
    }

    func cancelWaiter() {
        if let waiter {
            waiter.pool.cancelWaiter(waiter.id)
            self.waiter = nil
        }
    }

    func releaseActiveRequest() {
        if countedActiveRequest, let cluster {
            cluster.shared.activeRequests.wrappingDecrement(ordering: .relaxed)
            countedActiveRequest = false
        }
    }

    /// A local reply replaced the upstream exchange.
    func abandonUpstream() {
        tryTimer?.cancel(); tryTimer = nil
        routeDeadline = nil
        cancelWaiter()
        endAttempt(.cancelled)
        if let exchange {
            self.exchange = nil
            exchange.release(reusable: false)
        }
        upstreamHead = nil
        pendingBody.removeAll()
        pendingEnd = false
    }

    // MARK: failures and retries

    private func retryPolicyAllows(_ condition: RetryPolicy.Condition) -> Bool {
        guard let policy = route?.retryPolicy, attempts <= policy.numRetries else { return false }
        guard retainable else { return false }
        switch condition {
        case .fiveXX: return policy.retryOn.contains(.fiveXX)
        case .gatewayError: return policy.retryOn.contains(.gatewayError) || policy.retryOn.contains(.fiveXX)
        case .connectFailure:
            return policy.retryOn.contains(.connectFailure) || policy.retryOn.contains(.gatewayError) || policy.retryOn.contains(.fiveXX)
        case .reset:
            return policy.retryOn.contains(.reset) || policy.retryOn.contains(.fiveXX)
        }
    }

    private func retry() {
        guard let cluster else { return }
        let retries = cluster.shared.activeRetries.loadThenWrappingIncrement(ordering: .relaxed)
        defer { cluster.shared.activeRetries.wrappingDecrement(ordering: .relaxed) }
        guard retries < cluster.shared.config.circuitBreakers.maxRetries else { return }
        worker.metrics.retry(cluster: cluster.shared.config.name)
        attempt()
    }

    func upstreamFailedBeforeResponse(_ failure: UpstreamFailure, retryable: Bool, overloaded: Bool) {
        guard !finished else { return }
        tryTimer?.cancel(); tryTimer = nil
        let condition: RetryPolicy.Condition
        switch failure {
        case .connectFailure, .tlsFailure: condition = .connectFailure
        default: condition = .reset
        }
        if retryable && retryPolicyAllows(condition) {
            let before = attempts
            retry()
            if attempts > before { return }
        }
        failureReason = "\(failure)"
        var headers = HTTPHeaders()
        if overloaded { headers.add(name: "x-herz-overloaded", value: "true") }
        let body: String
        switch failure {
        case .connectFailure(let why): body = "upstream connect error: \(why)\n"
        case .reset(let why): body = "upstream reset before response: \(why)\n"
        case .overflow(let why): body = "upstream overloaded: \(why)\n"
        case .protocolError(let why): body = "upstream protocol error: \(why)\n"
        case .tlsFailure(let reason, _):
            body = "upstream TLS error: \(reason)\n"
            headers.add(name: "x-herz-upstream-tls-error", value: reason)
        }
        if case .protocolError = failure {
            localReply(.badGateway, body, headers: headers)
        } else {
            localReply(.serviceUnavailable, body, headers: headers)
        }
    }

    // MARK: UpstreamResponseDelegate

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        guard !finished, let exchange else { return }
        ioCallbackDepth += 1
        defer { ioCallbackDepth -= 1 }
        switch part {
        case .head(var head):
            if head.status.code < 200 { return }  // 1xx: Herz answers 100-continue itself
            tryTimer?.cancel(); tryTimer = nil
            let code = Int(head.status.code)
            let condition: RetryPolicy.Condition? = code >= 500
                ? ([502, 503, 504].contains(code) ? .gatewayError : .fiveXX) : nil
            if let condition, retryPolicyAllows(condition) {
                self.exchange = nil
                exchange.release(reusable: false)
                endAttempt(.status(code))
                let before = attempts
                retry()
                if attempts > before { return }
                // Retry budget exhausted: there is no response to pass on any more.
                localReply(HTTPResponseStatus(statusCode: code), "upstream error \(code)\n")
                return
            }
            responseStarted = true
            upstreamStatus = code
            upstreamResponseKeepAlive = head.isKeepAlive
            if let mutations = route?.responseHeaders, !mutations.isEmpty { ProxyHeaderPolicy.apply(mutations, to: &head.headers) }
            ProxyHeaderPolicy.prepareDownstreamResponse(&head.headers)
            let downstreamVersion = requestHead?.version ?? .http1_1
            if head.version != downstreamVersion { head.version = downstreamVersion }  // the setter copies
            if let filterManager { filterManager.encodeHeaders(head, endStream: false) } else { run(passThrough.encodeHeaders(head, endStream: false)) }
        case .body(let buffer):
            chainEncodeData(buffer, endStream: false)
        case .end(let trailers):
            self.exchange = nil
            endAttempt(.status(upstreamStatus))
            exchange.release(reusable: upstreamResponseKeepAlive && forwardedRequestEnd)
            if let trailers {
                if let filterManager { filterManager.encodeTrailers(trailers) } else { run(passThrough.encodeTrailers(trailers)) }
            } else {
                chainEncodeData(ByteBuffer(), endStream: true)
            }
        }
    }

    func upstreamReadComplete() {
        responder?.flushResponse()
    }

    func upstreamFailed(_ failure: UpstreamFailure) {
        guard !finished, let exchange else { return }
        self.exchange = nil
        endAttempt(.reset)
        exchange.release(reusable: false)
        if responseStarted {
            // Never let a truncated response look complete: reset the downstream.
            failureReason = "upstream reset mid-response: \(failure)"
            reset()
        } else {
            upstreamFailedBeforeResponse(failure, retryable: true, overloaded: false)
        }
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        // Backpressure follows NIO's writability events only. Pause first, then flush (writability
        // only returns after a flush, and that flush may report it synchronously, re-entering here).
        setGate(.downstream, .peerNotWritable, !isWritable)
        if !isWritable { exchange?.flush() }
    }

    // MARK: timers

    func startRouteTimer() {
        guard routeDeadline == nil, let timeout = route?.timeout, timeout > .zero else { return }
        routeDeadline = worker.deadlines.add(after: timeout, owner: self)
    }

    func startTryTimer() {
        tryTimer?.cancel()
        guard let timeout = route?.retryPolicy?.perTryTimeout, timeout > .zero else { return }
        tryTimer = worker.eventLoop.scheduleTask(in: timeout) { [weak self] in
            self?.timedOut(perTry: true)
        }
    }

    func timedOut(perTry: Bool) {
        guard !finished else { return }
        if perTry { tryTimer = nil } else { routeDeadline = nil }
        if let exchange {
            self.exchange = nil
            endAttempt(.timeout)
            exchange.release(reusable: false)
        }
        cancelWaiter()
        if responseStarted {
            failureReason = "upstream timeout mid-response"
            reset()
            return
        }
        if perTry, routeDeadline != nil, retryPolicyAllows(.reset) || retryPolicyAllows(.gatewayError) {
            let before = attempts
            retry()
            if attempts > before { responder?.flushResponse(); return }
        }
        failureReason = perTry ? "upstream per-try timeout" : "upstream timeout"
        localReply(.gatewayTimeout, "upstream request timeout\n")
        responder?.flushResponse()
    }

    /// A reply generated by the router itself (404, 502, 503, 504): it still runs every filter's
    /// encode path.
    func localReply(_ status: HTTPResponseStatus, _ body: String, headers: HTTPHeaders = HTTPHeaders()) {
        abandonUpstream()
        if let filterManager {
            filterManager.sendLocalReply(status: status, body: body, headers: headers)
        } else {
            run(passThrough.sendLocalReply(status: status, body: body, headers: headers))
        }
    }
}
