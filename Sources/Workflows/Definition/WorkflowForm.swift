import JSONValue

/// The fields a definition's form places, in the order its inputs are numbered: depth-first
/// pre-order from the form's root; without a usable form, the legacy `exposedFields` in their
/// order.
struct WorkflowForm {
    /// Where the form places a field: tape positions of its node id and field name (strings) and
    /// of the component the form chose for it (`textarea` for a string), if any.
    struct Field {
        let node: Int
        let field: Int
        let component: Int?
    }

    let document: JSONDocument

    static func fields(of document: JSONDocument) -> [Field] {
        let form = WorkflowForm(document: document)
        let exposed = document.member("exposedFields", of: 0, kind: .array)
        if let fields = form.formFields(), !fields.isEmpty || exposed.map(document.count(at:)) ?? 0 == 0 {
            return fields
        }
        return exposed.map(form.exposedFields) ?? []
    }

    /// The node-fields reachable from the form's root; nil without a form, root or root element.
    private func formFields() -> [Field]? {
        guard let form = document.member("form", of: 0),
            let root = document.member("rootElementId", of: form, kind: .string),
            let elements = document.member("elements", of: form, kind: .object)
        else { return nil }
        // Elements by id (the last of a repeated id, as for any JSON reader), found by the bytes
        // of the ids that name them; the index holds each element's place in `values`.
        var values: [Int] = []
        values.reserveCapacity(document.count(at: elements))
        var elementIndex = JSONStringIndex(document, capacity: document.count(at: elements))
        document.forEachMember(of: elements) { key, value in
            elementIndex.set(values.count, forStringAt: key)
            values.append(value)
        }
        guard elementIndex.value(forStringAt: root) != nil else { return nil }
        // Depth-first with a stack of ids still to visit (a crafted form can nest deeper than a
        // thread's stack would allow recursion to go).
        var fields: [Field] = []
        var visited = [Bool](repeating: false, count: values.count)
        var pending = [root]
        while let id = pending.popLast() {
            guard let place = elementIndex.value(forStringAt: id), !visited[place] else { continue }
            visited[place] = true
            var type: Int?, data: Int?
            document.forEachMember(of: values[place], named: ["type", "data"]) { key, value in
                if key == 0 { type = value } else { data = value }
            }
            guard let type, let data else { continue }
            if document.string(at: type, equals: "container") {
                if let children = document.member("children", of: data, kind: .array) {
                    let start = pending.count
                    document.forEachItem(of: children) { pending.append($0) }
                    pending[start...].reverse()
                }
            } else if document.string(at: type, equals: "node-field"), let field = nodeField(data) {
                fields.append(field)
            }
            // heading, text, divider: not inputs
        }
        return fields
    }

    /// A node-field element's field identifier and chosen component.
    private func nodeField(_ data: Int) -> Field? {
        var identifier: Int?, settings: Int?
        document.forEachMember(of: data, named: ["fieldIdentifier", "settings"]) { key, value in
            if key == 0 { identifier = value } else { settings = value }
        }
        guard let identifier, let node = document.member("nodeId", of: identifier, kind: .string),
            let field = document.member("fieldName", of: identifier, kind: .string)
        else { return nil }
        return Field(
            node: node, field: field,
            component: settings.flatMap { document.member("component", of: $0, kind: .string) })
    }

    private func exposedFields(_ list: Int) -> [Field] {
        var fields: [Field] = []
        document.forEachItem(of: list) { item in
            guard let node = document.member("nodeId", of: item, kind: .string),
                let name = document.member("fieldName", of: item, kind: .string)
            else { return }
            fields.append(Field(node: node, field: name, component: nil))
        }
        return fields
    }
}
