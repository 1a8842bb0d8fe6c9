// The op schema clients read (proto/tensord/v1/op_schema.proto), exported from the registry:
// GetServerInfo returns it and `tensord --print_op_schema` writes the checked-in
// proto/tensord/v1/op_schema.json, which a test keeps equal to the registry.
#pragma once

#include <string>

#include "tensord/v1/op_schema.pb.h"

namespace tensord::ops {

v1::OpSchema ExportOpSchema();

// ExportOpSchema as indented JSON with proto field names (what op_schema.json holds).
std::string OpSchemaJson();

}  // namespace tensord::ops
