#!/usr/bin/env python3
"""Generate src/frames_gen.rs from the Cap'n Proto schemas (Python 3 stdlib only).

The schemas are compiled by the reference tool:

    capnp compile -o- schemas/X.capnp | capnp decode /usr/include/capnp/schema.capnp CodeGeneratorRequest

and the decoded text (Cap'n Proto text format) is parsed here. Every field offset, struct size,
discriminant and enumerant in the generated Rust comes from that output; nothing is hand-kept.

Usage (from anywhere):
    gen_frames.py            write herz-coproc/src/frames_gen.rs
    gen_frames.py --check    exit 1 when the committed file differs from a fresh generation
    gen_frames.py --stdout   print the generated code
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(HERE)
REPO = os.path.abspath(os.path.join(CRATE, "..", "..", ".."))
SCHEMAS = ["schemas/ring.capnp", "schemas/control.capnp"]
OUTPUT = os.path.join(CRATE, "src", "frames_gen.rs")
SCHEMA_CAPNP = "/usr/include/capnp/schema.capnp"


# ---------------------------------------------------------------------------------------------
# Cap'n Proto text format parser (what `capnp decode` prints)

TOKEN = re.compile(r'\s*(?:(?P<punct>[()\[\],=])|(?P<str>"(?:[^"\\]|\\.)*")|(?P<opaque><[^>]*>)|(?P<word>[^\s()\[\],="<]+))')


def tokenize(text):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise SyntaxError("cannot tokenize at %r" % text[pos:pos + 40])
        pos = m.end()
        if m.group("punct"):
            out.append(("p", m.group("punct")))
        elif m.group("str"):
            out.append(("s", bytes(m.group("str")[1:-1], "utf-8").decode("unicode_escape")))
        else:
            out.append(("w", m.group("opaque") or m.group("word")))
    return out


class Parser:
    def __init__(self, tokens):
        self.t, self.i = tokens, 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self, kind=None, value=None):
        tok = self.peek()
        if (kind and tok[0] != kind) or (value and tok[1] != value):
            raise SyntaxError("expected %s %s, got %r" % (kind, value, tok))
        self.i += 1
        return tok

    def value(self):
        kind, v = self.peek()
        if (kind, v) == ("p", "("):
            self.take()
            obj = {}
            while self.peek() != ("p", ")"):
                name = self.take("w")[1]
                self.take("p", "=")
                obj[name] = self.value()
                if self.peek() == ("p", ","):
                    self.take()
            self.take("p", ")")
            return obj
        if (kind, v) == ("p", "["):
            self.take()
            items = []
            while self.peek() != ("p", "]"):
                items.append(self.value())
                if self.peek() == ("p", ","):
                    self.take()
            self.take("p", "]")
            return items
        self.take()
        return v


def load_request(schema):
    env = dict(os.environ, PWD=REPO)  # kj warns when PWD does not match the working directory
    compiled = subprocess.run(["capnp", "compile", "-o-", schema], cwd=REPO, env=env, check=True,
                              stdout=subprocess.PIPE).stdout
    text = subprocess.run(["capnp", "decode", SCHEMA_CAPNP, "CodeGeneratorRequest"], input=compiled,
                          check=True, stdout=subprocess.PIPE).stdout.decode()
    parser = Parser(tokenize(text))
    request = parser.value()
    if parser.i != len(parser.t):
        raise SyntaxError("trailing tokens after the request")
    return request


# ---------------------------------------------------------------------------------------------
# Rust emitter

RUST_KEYWORDS = {"type", "match", "ref", "move", "box", "loop", "where", "impl", "mod", "fn"}
PRIMITIVES = {"bool": "bool", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
              "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64",
              "float32": "f32", "float64": "f64"}


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    return s + "_" if s in RUST_KEYWORDS else s


def upper_camel(name):
    return name[0].upper() + name[1:]


def shout(name):
    return snake(name).upper().rstrip("_")


def doc_lines(text, indent):
    lines = [l.rstrip() for l in text.strip().splitlines()] if text else []
    return "".join("%s///%s\n" % (indent, (" " + l) if l else "") for l in lines)


class Emitter:
    def __init__(self, request):
        self.nodes = {n["id"]: n for n in request["nodes"]}
        self.docs = {s["id"]: s for s in request.get("sourceInfo", [])}
        self.out = []

    def w(self, text=""):
        self.out.append(text)

    def module_of(self, type_id):
        return snake(self.short_name(self.nodes[type_id]))

    def short_name(self, node):
        return node["displayName"][int(node["displayNamePrefixLength"]):]

    def type_text(self, t):
        (kind, arg), = t.items()
        if kind in ("struct", "enum"):
            return self.short_name(self.nodes[arg["typeId"]])
        if kind == "list":
            return "List(%s)" % self.type_text(arg["elementType"])
        return {"data": "Data", "text": "Text", "void": "Void"}.get(
            kind, upper_camel(kind).replace("Uint", "UInt"))

    def member_doc(self, node_id, index):
        info = self.docs.get(node_id, {})
        members = info.get("members", [])
        return members[index].get("docComment", "") if index < len(members) else ""

    def emit_file(self, file_id):
        file_node = self.nodes[file_id]
        for nested in file_node.get("nestedNodes", []):
            node = self.nodes[nested["id"]]
            if "const" in node:
                self.emit_const(node)
            elif "enum" in node:
                self.emit_enum(node)
            elif "struct" in node:
                self.emit_struct(node)
            else:
                raise ValueError("unsupported node %s" % node["displayName"])

    def emit_const(self, node):
        (kind, _), = node["const"]["type"].items()
        (_, value), = node["const"]["value"].items()
        doc = self.docs.get(node["id"], {}).get("docComment", "")
        self.w(doc_lines(doc or "`%s` from the schema." % self.short_name(node), ""), )
        self.w("pub const %s: %s = %s;\n" % (shout(self.short_name(node)), PRIMITIVES[kind], value))

    def emit_enum(self, node):
        name = self.short_name(node)
        doc = self.docs.get(node["id"], {}).get("docComment", "") or "Enum `%s` of the schema." % name
        self.w(doc_lines(doc, ""))
        self.w("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\n#[repr(u16)]\npub enum %s {\n" % name)
        enumerants = node["enum"]["enumerants"]
        for i, e in enumerate(enumerants):
            self.w(doc_lines(self.member_doc(node["id"], i) or "`%s` on the wire." % e["name"], "    "))
            self.w("    %s = %d,\n" % (upper_camel(e["name"]), i))
        self.w("}\n\nimpl %s {\n" % name)
        self.w("    /// Every enumerant, in wire order.\n")
        self.w("    pub const ALL: [%s; %d] = [%s];\n\n" % (name, len(enumerants), ", ".join(
            "%s::%s" % (name, upper_camel(e["name"])) for e in enumerants)))
        self.w("    /// The enumerant with this wire value, or `NotInSchema` for values this build does not know.\n")
        self.w("    pub fn from_u16(value: u16) -> ::core::result::Result<Self, NotInSchema> {\n")
        self.w("        Self::ALL.get(value as usize).copied().ok_or(NotInSchema(value))\n    }\n}\n\n")

    # -- structs ------------------------------------------------------------------------------

    def emit_struct(self, node):
        name = self.short_name(node)
        st = node["struct"]
        mod = snake(name)
        data_words, pointers = int(st["dataWordCount"]), int(st["pointerCount"])
        if st.get("isGroup") == "true":
            raise ValueError("groups are not supported (%s)" % name)
        doc = self.docs.get(node["id"], {}).get("docComment", "")
        self.w(doc_lines(doc or "Struct `%s` of the schema." % name, ""))
        self.w("pub mod %s {\n    use super::*;\n\n" % mod)
        self.w("    /// Wire size of `%s`: %d data words, %d pointers.\n" % (name, data_words, pointers))
        self.w("    pub const SIZE: StructSize = StructSize { data: %d, pointers: %d };\n\n" % (data_words, pointers))
        fields = st.get("fields", [])
        union = [(i, f) for i, f in enumerate(fields) if int(f["discriminantValue"]) != 0xFFFF]
        plain = [(i, f) for i, f in enumerate(fields) if int(f["discriminantValue"]) == 0xFFFF]
        disc_offset = int(st["discriminantOffset"])
        for f in fields:
            if "slot" not in f:
                raise ValueError("groups are not supported (%s.%s)" % (name, f["name"]))
            if f["slot"].get("hadExplicitDefault") == "true":
                raise ValueError("explicit defaults are not supported (%s.%s)" % (name, f["name"]))

        self.w("    /// Reads a `%s`; every getter is bounds-checked by the message's `ReaderOptions`.\n" % name)
        self.w("    #[derive(Clone, Copy)]\n    pub struct Reader<'a>(pub(crate) StructReader<'a>);\n\n")
        self.w("    impl<'a> Reader<'a> {\n")
        for i, f in plain:
            self.emit_getter(node, i, f)
        if self.out[-1].endswith("}\n\n"):
            self.out[-1] = self.out[-1][:-1]
        if union:
            self.w("        /// Which member of the union is set (an error for a discriminant this build does not know\n")
            self.w("        /// or a member whose pointer does not decode).\n")
            self.w("        pub fn which(&self) -> Result<Which<'a>> {\n")
            self.w("            match self.0.get_data_field::<u16>(%d) {\n" % disc_offset)
            for i, f in union:
                self.w("                %s => Ok(Which::%s%s),\n" % (
                    f["discriminantValue"], upper_camel(f["name"]), self.which_payload(f)))
            self.w("                other => Err(not_in_schema(\"%s\", other)),\n            }\n        }\n" % name)
        self.w("    }\n\n")

        if union:
            self.w("    /// The member set in `%s`'s union, with its value.\n" % name)
            self.w("    pub enum Which<'a> {\n")
            for i, f in union:
                self.w(doc_lines(self.field_doc(node, i, f), "        "))
                rt = self.reader_type(f["slot"]["type"])
                self.w("        %s%s,\n" % (upper_camel(f["name"]), "" if rt is None else "(%s)" % rt))
            self.w("    }\n\n")

        self.w("    /// Builds a `%s` inside a message.\n" % name)
        self.w("    pub struct Builder<'a>(pub(crate) StructBuilder<'a>);\n\n")
        self.w("    impl<'a> Builder<'a> {\n")
        for i, f in plain:
            self.emit_setter(node, i, f, None)
        for i, f in union:
            self.emit_setter(node, i, f, (disc_offset, int(f["discriminantValue"])))
        self.w("        /// A reader over what was built so far.\n")
        self.w("        pub fn reborrow_as_reader(&self) -> Reader<'_> {\n            Reader(self.0.into_reader())\n        }\n")
        self.w("    }\n\n")
        self.w("    impl<'a> FromStructReader<'a> for Reader<'a> {\n")
        self.w("        fn new(reader: StructReader<'a>) -> Self {\n            Reader(reader)\n        }\n    }\n\n")
        self.w("    impl<'a> FromPointerReader<'a> for Reader<'a> {\n")
        self.w("        fn get_from_pointer(reader: &PointerReader<'a>, default: Option<&'a [Word]>) -> Result<Self> {\n")
        self.w("            Ok(Reader(reader.get_struct(default)?))\n        }\n    }\n\n")
        self.w("    impl<'a> FromStructBuilder<'a> for Builder<'a> {\n")
        self.w("        fn new(builder: StructBuilder<'a>) -> Self {\n            Builder(builder)\n        }\n    }\n\n")
        self.w("    impl HasStructSize for Builder<'_> {\n")
        self.w("        fn struct_size() -> StructSize {\n            SIZE\n        }\n    }\n\n")
        self.w("    impl<'a> FromPointerBuilder<'a> for Builder<'a> {\n")
        self.w("        fn init_pointer(builder: PointerBuilder<'a>, _length: u32) -> Self {\n")
        self.w("            Builder(builder.init_struct(SIZE))\n        }\n\n")
        self.w("        fn get_from_pointer(builder: PointerBuilder<'a>, default: Option<&'a [Word]>) -> Result<Self> {\n")
        self.w("            Ok(Builder(builder.get_struct(SIZE, default)?))\n        }\n    }\n}\n\n")

    def field_doc(self, node, i, f):
        ordinal = f.get("ordinal", {}).get("explicit", "?")
        head = "`%s @%s :%s`" % (f["name"], ordinal, self.type_text(f["slot"]["type"]))
        extra = self.member_doc(node["id"], i)
        return head + ("\n\n" + extra if extra else ".")

    def reader_type(self, t):
        """Rust type a getter returns (None for Void)."""
        (kind, arg), = t.items()
        if kind == "void":
            return None
        if kind in PRIMITIVES:
            return PRIMITIVES[kind]
        if kind == "enum":
            return "::core::result::Result<%s, NotInSchema>" % self.short_name(self.nodes[arg["typeId"]])
        if kind == "data":
            return "&'a [u8]"
        if kind == "text":
            return "&'a str"
        if kind == "struct":
            return "super::%s::Reader<'a>" % self.module_of(arg["typeId"])
        if kind == "list":
            (ek, ea), = arg["elementType"].items()
            if ek == "struct":
                return "StructList<'a, super::%s::Reader<'a>>" % self.module_of(ea["typeId"])
            if ek == "text":
                return "TextList<'a>"
            if ek == "data":
                return "DataList<'a>"
        raise ValueError("unsupported type %r" % t)

    def read_expr(self, t, offset):
        (kind, arg), = t.items()
        if kind == "bool":
            return "self.0.get_bool_field(%d)" % offset
        if kind in PRIMITIVES:
            return "self.0.get_data_field::<%s>(%d)" % (PRIMITIVES[kind], offset)
        if kind == "enum":
            return "%s::from_u16(self.0.get_data_field::<u16>(%d))" % (self.short_name(self.nodes[arg["typeId"]]), offset)
        pointer = "self.0.get_pointer_field(%d)" % offset
        if kind == "data":
            return "%s.get_data(None)" % pointer
        if kind == "text":
            return "%s.get_text(None)" % pointer
        if kind == "struct":
            return "FromPointerReader::get_from_pointer(&%s, None)" % pointer
        if kind == "list":
            (ek, _), = arg["elementType"].items()
            return {"struct": "StructList::read", "text": "TextList::read", "data": "DataList::read"}[ek] + "(%s)" % pointer
        raise ValueError("unsupported type %r" % t)

    def is_fallible_pointer(self, t):
        (kind, _), = t.items()
        return kind in ("data", "text", "struct", "list")

    def which_payload(self, f):
        t = f["slot"]["type"]
        (kind, _), = t.items()
        if kind == "void":
            return ""
        expr = self.read_expr(t, int(f["slot"]["offset"]))
        return "(%s?)" % expr if self.is_fallible_pointer(t) else "(%s)" % expr

    def emit_getter(self, node, i, f):
        t = f["slot"]["type"]
        rt = self.reader_type(t)
        if rt is None:
            return
        self.w(doc_lines(self.field_doc(node, i, f), "        "))
        if self.is_fallible_pointer(t):
            rt = "Result<%s>" % rt
        self.w("        pub fn %s(&self) -> %s {\n            %s\n        }\n\n" % (
            snake(f["name"]), rt, self.read_expr(t, int(f["slot"]["offset"]))))

    def emit_setter(self, node, i, f, disc):
        t = f["slot"]["type"]
        (kind, arg), = t.items()
        offset = int(f["slot"]["offset"])
        set_disc = "        self.0.set_data_field::<u16>(%d, %d);\n" % disc if disc else ""
        self.w(doc_lines(self.field_doc(node, i, f) + ("\n\nSelects this member of the union." if disc else ""), "        "))
        name = snake(f["name"])
        pointer = "self.0.get_pointer_field(%d)" % offset
        if kind == "void":
            self.w("        pub fn set_%s(&mut self) {\n%s        }\n\n" % (name, set_disc.replace("        self", "            self")))
            return
        body = set_disc.replace("        self", "            self")
        if kind == "bool":
            self.w("        pub fn set_%s(&mut self, value: bool) {\n%s            self.0.set_bool_field(%d, value);\n        }\n\n" % (name, body, offset))
        elif kind in PRIMITIVES:
            p = PRIMITIVES[kind]
            self.w("        pub fn set_%s(&mut self, value: %s) {\n%s            self.0.set_data_field::<%s>(%d, value);\n        }\n\n" % (name, p, body, p, offset))
        elif kind == "enum":
            en = self.short_name(self.nodes[arg["typeId"]])
            self.w("        pub fn set_%s(&mut self, value: %s) {\n%s            self.0.set_data_field::<u16>(%d, value as u16);\n        }\n\n" % (name, en, body, offset))
        elif kind == "data":
            self.w("        pub fn set_%s(&mut self, value: &[u8]) {\n%s            %s.set_data(value);\n        }\n\n" % (name, body, pointer))
        elif kind == "text":
            self.w("        pub fn set_%s(&mut self, value: &str) {\n%s            %s.set_text(value);\n        }\n\n" % (name, body, pointer))
        elif kind == "struct":
            m = self.module_of(arg["typeId"])
            self.w("        pub fn init_%s(&mut self) -> super::%s::Builder<'a> {\n%s            super::%s::Builder(%s.init_struct(super::%s::SIZE))\n        }\n\n" % (name, m, body, m, pointer, m))
        elif kind == "list":
            (ek, ea), = arg["elementType"].items()
            if ek == "struct":
                m = self.module_of(ea["typeId"])
                self.w("        pub fn init_%s(&mut self, len: u32) -> StructListBuilder<'a, super::%s::Builder<'a>> {\n%s            StructListBuilder::init(%s, len)\n        }\n\n" % (name, m, body, pointer))
            elif ek in ("text", "data"):
                lb = "TextListBuilder" if ek == "text" else "DataListBuilder"
                self.w("        pub fn init_%s(&mut self, len: u32) -> %s<'a> {\n%s            %s::init(%s, len)\n        }\n\n" % (name, lb, body, lb, pointer))
            else:
                raise ValueError("unsupported list %r" % t)
        else:
            raise ValueError("unsupported type %r" % t)


HEADER = """// @generated by herz-coproc/gen/gen_frames.py from {schemas}.
// Do not edit: run `python3 herz-coproc/gen/gen_frames.py` after changing a schema.
// `cargo test` fails when this file differs from a fresh generation.

#![allow(clippy::all, dead_code)]

"""


def generate():
    parts = [HEADER.format(schemas=", ".join(SCHEMAS))]
    for schema in SCHEMAS:
        request = load_request(schema)
        emitter = Emitter(request)
        file_id = request["requestedFiles"][0]["id"]
        mod = os.path.splitext(os.path.basename(schema))[0]
        parts.append("/// Readers and builders for `%s`.\npub mod %s {\n    use crate::frames::runtime::*;\n\n" % (schema, mod))
        emitter.emit_file(file_id)
        body = "".join(emitter.out)
        parts.append("".join(("    " + l if l.strip() else l) for l in body.rstrip("\n").splitlines(True)))
        parts.append("\n}\n\n")
    return "".join(parts).rstrip("\n") + "\n"


def main():
    code = generate()
    if "--stdout" in sys.argv:
        sys.stdout.write(code)
    elif "--check" in sys.argv:
        with open(OUTPUT) as f:
            if f.read() != code:
                sys.stderr.write("%s is stale: run gen/gen_frames.py\n" % OUTPUT)
                sys.exit(1)
    else:
        with open(OUTPUT, "w") as f:
            f.write(code)


if __name__ == "__main__":
    main()
