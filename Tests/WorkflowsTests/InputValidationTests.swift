import Foundation
import JSONValue
import Testing

@testable import Workflows

@Suite("Input validation and coercion")
struct InputValidationTests {
    private func coerce(_ value: JSONValue, _ kind: FieldKind, _ field: FieldTemplate? = nil) -> InputCoercion.Outcome {
        InputCoercion.coerce(value, kind, field ?? FieldTemplate(name: "f", kind: kind), models: Fixtures.models)
    }

    private func message(_ outcome: InputCoercion.Outcome) -> String? {
        if case .invalid(let message) = outcome { return message }
        return nil
    }

    @Test func numbers() {
        #expect(coerce(30, .integer) == .value(30))
        #expect(coerce("30", .integer) == .value(30))
        #expect(coerce(30.0, .integer) == .value(30))
        #expect(message(coerce(1.5, .integer)) == "must be an integer, got 1.5")
        #expect(message(coerce("1.5", .integer)) != nil)
        #expect(message(coerce(true, .integer)) != nil)
        #expect(coerce("2.5", .float) == .value(2.5))
        #expect(coerce(3, .float) == .value(3.0))
        let bounded = FieldTemplate(name: "w", kind: .integer, maximum: 100, exclusiveMinimum: 0, multipleOf: 8)
        #expect(message(coerce(0, .integer, bounded)) == "must be greater than 0, got 0")
        #expect(message(coerce(104, .integer, bounded)) == "must be at most 100, got 104")
        #expect(message(coerce(12, .integer, bounded)) == "must be a multiple of 8, got 12")
        #expect(coerce(96, .integer, bounded) == .value(96))
    }

    @Test func textEnumsAndBooleans() {
        #expect(coerce("true", .boolean) == .value(true))
        #expect(message(coerce("yes", .boolean)) != nil)
        #expect(message(coerce(5, .string)) == "must be a string, got 5")
        #expect(
            message(coerce("far too long", .string, FieldTemplate(name: "s", kind: .string, maxLength: 5)))
                == "must be at most 5 characters long")
        #expect(coerce("RGB", .enumeration(["RGB", "RGBA"])) == .value("RGB"))
        #expect(
            message(coerce("rgb", .enumeration(["RGB", "RGBA"]))) == "must be one of \"RGB\", \"RGBA\", got \"rgb\"")
    }

    @Test func imagesBoardsAndColours() throws {
        #expect(coerce("abc.png", .image) == .value(["image_name": "abc.png"]))
        #expect(coerce(["image_name": "abc.png"], .image) == .value(["image_name": "abc.png"]))
        #expect(message(coerce(["name": "abc.png"], .image)) != nil)
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 7, count: 60)
        let base64 = Data(png).base64EncodedString()
        #expect(
            coerce(.string("data:image/png;base64,\(base64)"), .image)
                == .inlineImage(InlineImage(bytes: png, contentType: "image/png")))
        #expect(coerce(.string(base64), .image) == .inlineImage(InlineImage(bytes: png, contentType: "image/png")))
        #expect(
            message(coerce(.string("data:text/plain;base64,aGVsbG8="), .image))
                == "the inline image is not a PNG, JPEG or WebP")
        #expect(coerce("none", .board) == .value("none"))
        #expect(coerce("board-1", .board) == .value(["board_id": "board-1"]))
        #expect(coerce("#ff8000", .color) == .value(["r": 255, "g": 128, "b": 0, "a": 255]))
        #expect(coerce("#ff800080", .color) == .value(["r": 255, "g": 128, "b": 0, "a": 128]))
        #expect(coerce(["r": 1, "g": 2, "b": 3], .color) == .value(["r": 1, "g": 2, "b": 3, "a": 255]))
        #expect(message(coerce(["r": 1, "g": 2, "b": 300], .color)) != nil)
        #expect(message(coerce("#ff80", .color)) != nil)
    }

    @Test func modelsResolveByNameOrKeyAndRespectTheFieldsFilter() {
        let field = FieldTemplate(name: "model", kind: .model, modelBases: ["sd-1"], modelTypes: ["main"])
        let tiny = Fixtures.models[0].identifier
        #expect(coerce("tiny-sd15", .model, field) == .value(tiny))
        #expect(coerce("k-tiny", .model, field) == .value(tiny))
        #expect(coerce(["key": "k-tiny"], .model, field) == .value(tiny))
        #expect(message(coerce("big-xl", .model, field)) == "model 'big-xl' is sdxl; this input takes sd-1")
        #expect(message(coerce("tiny", .model, field)) == "no installed model named or keyed 'tiny'; close: tiny-sd15")
        // An identifier made elsewhere: a key this InvokeAI does not have would fail the run
        // ("Unknown model"), so it finds the installed model of its name, base and type...
        let reinstalled: JSONValue = ["key": "k9", "hash": "h", "name": "tiny-sd15", "base": "sd-1", "type": "main"]
        #expect(coerce(reinstalled, .model, field) == .value(tiny))
        #expect(coerce(["name": "tiny-sd15", "base": "sd-1", "type": "main"], .model, field) == .value(tiny))
        // ...or is refused, naming the installed models of its base and type (it used to be sent as given).
        let elsewhere: JSONValue = ["key": "k9", "hash": "h", "name": "n", "base": "sd-1", "type": "main"]
        #expect(
            message(coerce(elsewhere, .model, field))
                == "model 'n' (key k9) is not installed; installed sd-1 main models: 'tiny-sd15' (k-tiny)")
        #expect(
            message(coerce(["key": "k9"], .model, field))
                == "no installed model has key 'k9'; installed sd-1 main models: 'tiny-sd15' (k-tiny)")
        #expect(
            message(coerce(["key": "k9", "name": "n", "base": "sdxl", "type": "lora"], .model, field))
                == "model 'n' (key k9) is not installed; no installed model is sdxl lora")
        #expect(
            message(coerce(["name": "tiny-sd15"], .model, field))
                == "a model object needs \"key\" (or \"name\", \"base\" and \"type\")")
    }

    @Test func listsAreCoercedItemByItem() {
        #expect(coerce([1, "2", 3.0], .collection(.integer)) == .value([1, 2, 3]))
        #expect(message(coerce([1, "x"], .collection(.integer))) == "item 1: must be an integer, got \"x\"")
        #expect(message(coerce(1, .collection(.integer))) != nil)
    }

    @Test func everyErrorIsReportedAtOnceWithIndexAndSystemName() throws {
        let workflow = try Workflow.parse(Fixtures.blankBlurSave, schemas: Fixtures.schemas)
        let result = workflow.validate(
            ["0": 1.5, "Height": "x", "Colour": "#12", "r.radius": 500, "nope": 1, "4": 7], models: [])
        guard case .failure(let failure) = result else { Issue.record("accepted"); return }
        #expect(failure.errors.map(\.index) == [0, 1, 2, 3, 4, nil])
        #expect(failure.errors.map(\.systemName) == ["b.width", "b.height", "b.color", "r.radius", "s.board", nil])
        #expect(failure.errors[3].message == "must be at most 100, got 500")
        #expect(failure.errors[5].key == "nope")
        // The same input twice, under two keys.
        guard case .failure(let twice) = workflow.validate(["0": 8, "b.width": 16], models: []) else {
            Issue.record("accepted"); return
        }
        #expect(twice.errors.count == 1)
        #expect(twice.errors[0].message.contains("given twice"))
    }

    @Test func errorsAreBoundedAndTheRestCounted() throws {
        let workflow = try Workflow.parse(Fixtures.blankBlurSave, schemas: Fixtures.schemas)
        var values: [String: JSONValue] = ["0": 1.5, "r.radius": 500]
        for n in 0..<10_000 { values[String(format: "unknown-%05d", n)] = 1 }
        guard case .failure(let failure) = workflow.validate(values, models: [], maxErrors: 5) else {
            Issue.record("accepted"); return
        }
        // The first five in the order reported: the inputs' own errors, then unknown keys by name.
        #expect(failure.errors.map(\.key) == ["0", "r.radius", "unknown-00000", "unknown-00001", "unknown-00002"])
        #expect(failure.errors[2].message.hasPrefix("no input 'unknown-00000'"))
        #expect(failure.omitted == 10_002 - 5)
        // Unbounded, the same order and every error.
        guard case .failure(let all) = workflow.validate(values, models: []) else { Issue.record("accepted"); return }
        #expect(all.errors.count == 10_002)
        #expect(all.omitted == 0)
        #expect(Array(all.errors.prefix(5)) == failure.errors)
    }

    @Test func requiredInputsWithoutAValueMustBeGiven() throws {
        let json = Fixtures.workflow(nodes: [Fixtures.node("m", "main_model_loader")], exposed: [("m", "model")])
        let workflow = try Workflow.parse(json, schemas: Fixtures.schemas)
        #expect(workflow.inputs[0].required)
        guard case .failure(let failure) = workflow.validate([:], models: Fixtures.models) else {
            Issue.record("accepted"); return
        }
        #expect(failure.errors.map(\.systemName) == ["m.model"])
        guard case .success(let resolved) = workflow.validate(["Model": "tiny-sd15"], models: Fixtures.models) else {
            Issue.record("refused"); return
        }
        #expect(resolved.values[0] == Fixtures.models[0].identifier)
    }

    @Test func inlineImagesAreHandedBackForUploadThenNamed() throws {
        let json = Fixtures.workflow(nodes: [Fixtures.node("r", "img_blur")], exposed: [("r", "image")])
        let workflow = try Workflow.parse(json, schemas: Fixtures.schemas)
        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]).base64EncodedString()
        guard
            case .success(var resolved) = workflow.validate(["0": .string("data:image/png;base64,\(png)")], models: [])
        else { Issue.record("refused"); return }
        #expect(resolved.inlineImages[0]?.contentType == "image/png")
        resolved.setImage("uploaded.png", forInput: 0)
        #expect(resolved.inlineImages.isEmpty)
        #expect(resolved.values[0] == ["image_name": "uploaded.png"])
    }
}
