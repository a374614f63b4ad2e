import CNGHTTP2
import HTTPCore

/// The nghttp2 callbacks. They are C function pointers, so they capture nothing and find their
/// connection through the session's user data (unretained: `HTTPServerLoop` keeps the
/// connection alive while its session exists).
extension HTTP2Connection {
    fileprivate static func from(_ userData: UnsafeMutableRawPointer?) -> HTTP2Connection {
        Unmanaged<HTTP2Connection>.fromOpaque(userData!).takeUnretainedValue()
    }

    private static func text(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    static let readBodyCallback: nghttp2_data_source_read_callback = {
        _, streamID, buffer, length, flags, _, userData in
        HTTP2Connection.from(userData).readBody(streamID, into: buffer!, length: length, flags: flags!)
    }

    static func installCallbacks(_ callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let hd = frame?.pointee.hd, hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
                frame!.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
            else { return 0 }
            let connection = HTTP2Connection.from(userData)
            connection.streams[hd.stream_id] = HTTP2Stream(id: hd.stream_id, now: MonotonicClock.now())
            return 0
        }

        nghttp2_session_callbacks_set_on_header_callback(callbacks) {
            _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame else { return 0 }
            let connection = HTTP2Connection.from(userData)
            guard let stream = connection.streams[frame.pointee.hd.stream_id] else { return 0 }
            connection.receivedField(name: name, nameLength, value: value, valueLength, on: stream)
            return 0
        }

        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) {
            session, _, streamID, data, length, userData in
            HTTP2Connection.from(userData).receivedData(streamID, data, length)
            return 0
        }

        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            HTTP2Connection.from(userData).receivedFrame(frame.pointee.hd)
            return 0
        }

        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
            guard let hd = frame?.pointee.hd else { return 0 }
            let isEnd =
                (hd.type == UInt8(NGHTTP2_DATA.rawValue) || hd.type == UInt8(NGHTTP2_HEADERS.rawValue))
                && hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            // Answered before the client finished sending: a refused upload may go on up to
            // its discard limit (clients such as curl 7.88 read no answer that a reset
            // follows while they send); anything else (408) is stopped now.
            let connection = HTTP2Connection.from(userData)
            if isEnd, let stream = connection.streams[hd.stream_id], !stream.requestComplete,
                stream.discarded >= stream.discardLimit
            {
                connection.stopUpload(stream)
            }
            return 0
        }

        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, _, userData in
            let connection = HTTP2Connection.from(userData)
            if let stream = connection.streams.removeValue(forKey: streamID) { connection.release(stream) }
            connection.lastActivity = MonotonicClock.now()
            return 0
        }

        nghttp2_session_callbacks_set_error_callback2(callbacks) { _, _, message, length, userData in
            let connection = HTTP2Connection.from(userData)
            let text =
                message.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) } ?? "?"
            connection.context.logger.debug("h2 \(connection.peer): \(text)")
            return 0
        }
    }

    // MARK: what the callbacks record

    fileprivate func receivedField(
        name: UnsafePointer<UInt8>?, _ nameLength: Int, value: UnsafePointer<UInt8>?, _ valueLength: Int,
        on stream: HTTP2Stream
    ) {
        let limits = context.configuration.limits
        stream.headerListSize += nameLength + valueLength + 32
        stream.headerCount += 1
        if stream.headerListSize > limits.maxHeaderBytes || stream.headerCount > limits.maxHeaderCount {
            // Keep HPACK in sync (nghttp2 decodes anyway) but store nothing more: 431 follows.
            if stream.rejection == nil {
                stream.rejection = HTTPParseError(
                    .headersTooLarge,
                    "the header list exceeds \(limits.maxHeaderBytes) bytes or \(limits.maxHeaderCount) fields")
            }
            return
        }
        guard stream.rejection == nil else { return }
        let fieldName = Self.text(name, nameLength)
        let fieldValue = Self.text(value, valueLength)
        if stream.headersComplete {
            stream.trailers.add(fieldName, fieldValue)
            return
        }
        switch fieldName {
        case ":method": stream.method = fieldValue
        case ":path": stream.path = fieldValue
        case ":authority": stream.authority = fieldValue
        case ":scheme", ":protocol": break
        case "cookie": stream.cookies.append(fieldValue)
        default: stream.headers.add(fieldName, fieldValue)
        }
    }

    /// Body bytes: the connection window is always given back (the bytes are off the wire),
    /// the stream window only for bytes the request body took.
    fileprivate func receivedData(_ streamID: Int32, _ data: UnsafePointer<UInt8>?, _ length: Int) {
        guard let session else { return }
        _ = nghttp2_session_consume_connection(session, length)
        guard let stream = streams[streamID] else { return }
        if stream.rejection != nil || stream.responded {
            stream.discarded += length
            if stream.discarded <= stream.discardLimit {
                _ = nghttp2_session_consume_stream(session, streamID, length)
            } else {
                stopUpload(stream)
            }
            return
        }
        let maxBody = context.configuration.limits.maxBodyBytes
        if stream.body.count + length > maxBody {
            stream.rejection = HTTPParseError(.contentTooLarge, "the request body exceeds \(maxBody) bytes")
            stream.body = []
            stream.discarded = length
            _ = nghttp2_session_consume_stream(session, streamID, length)
            return
        }
        stream.body.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
        _ = nghttp2_session_consume_stream(session, streamID, length)
    }

    fileprivate func receivedFrame(_ hd: nghttp2_frame_hd) {
        let type = hd.type
        guard type == UInt8(NGHTTP2_HEADERS.rawValue) || type == UInt8(NGHTTP2_DATA.rawValue),
            let stream = streams[hd.stream_id]
        else { return }
        if type == UInt8(NGHTTP2_HEADERS.rawValue), !stream.headersComplete {
            stream.headersComplete = true
            let maxBody = context.configuration.limits.maxBodyBytes
            if stream.rejection == nil, let declared = stream.headers["content-length"].flatMap({ Int($0) }),
                declared > maxBody
            {
                stream.rejection = HTTPParseError(.contentTooLarge, "the request body exceeds \(maxBody) bytes")
            }
        }
        stream.lastProgress = MonotonicClock.now()
        if hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0 { stream.requestComplete = true }
        advance(stream)
    }
}
