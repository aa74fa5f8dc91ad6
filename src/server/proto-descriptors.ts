// The message shapes of the public contract, as proto-loader describes them (DescriptorProto objects):
// what the request guard walks to find out-of-range enum values, for every message of every service,
// including services added later.
import type * as protoLoader from "@grpc/proto-loader";

export interface FieldDescriptor {
  /** camelCase, as the decoded objects name it. */
  name: string;
  number: number;
  label: "LABEL_OPTIONAL" | "LABEL_REPEATED" | "LABEL_REQUIRED";
  /** e.g. "TYPE_STRING", "TYPE_ENUM", "TYPE_MESSAGE". */
  type: string;
  /** For messages and enums: the type's name, relative to the field's package. */
  typeName: string;
  proto3Optional: boolean;
}

export interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
}

export interface EnumDescriptor {
  name: string;
  value: { name: string; number: number }[];
}

/** Looks up the message and enum types of one package definition by (possibly relative) name. */
export class ProtoTypes {
  private readonly found = new Map<string, object>();
  private readonly enumBearing = new Map<MessageDescriptor, boolean>();

  constructor(private readonly definition: protoLoader.PackageDefinition) {}

  message(name: string): MessageDescriptor {
    return this.find(name, "Protocol Buffer 3 DescriptorProto") as MessageDescriptor;
  }

  enumType(name: string): EnumDescriptor {
    return this.find(name, "Protocol Buffer 3 EnumDescriptorProto") as EnumDescriptor;
  }

  /**
   * True when the message, or a message inside it at any depth, has an enum field. Walks of a request for
   * enum values skip the parts where none can be (records, headers): a produce costs the same whatever
   * its size.
   */
  hasEnums(type: MessageDescriptor): boolean {
    const known = this.enumBearing.get(type);
    if (known !== undefined) return known;
    // A recursive type is assumed enum-free while its own fields are looked at.
    this.enumBearing.set(type, false);
    const result = type.field.some((f) => f.type === "TYPE_ENUM" || (f.type === "TYPE_MESSAGE" && this.hasEnums(this.message(f.typeName))));
    this.enumBearing.set(type, result);
    return result;
  }

  private find(name: string, format: string): object {
    const cached = this.found.get(`${format}:${name}`);
    if (cached) return cached;
    const bare = name.replace(/^\./, "");
    for (const [key, def] of Object.entries(this.definition)) {
      if ((key === bare || key.endsWith(`.${bare}`)) && "format" in def && def.format === format) {
        this.found.set(`${format}:${name}`, def.type);
        return def.type;
      }
    }
    throw new Error(`no ${format} named ${name} in the contract`);
  }
}
