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
  constructor(private readonly definition: protoLoader.PackageDefinition) {}

  message(name: string): MessageDescriptor {
    const def = this.find(name, "Protocol Buffer 3 DescriptorProto");
    return def as MessageDescriptor;
  }

  enumType(name: string): EnumDescriptor {
    return this.find(name, "Protocol Buffer 3 EnumDescriptorProto") as EnumDescriptor;
  }

  private find(name: string, format: string): object {
    const bare = name.replace(/^\./, "");
    for (const [key, def] of Object.entries(this.definition)) {
      if ((key === bare || key.endsWith(`.${bare}`)) && "format" in def && def.format === format) return def.type;
    }
    throw new Error(`no ${format} named ${name} in the contract`);
  }
}
