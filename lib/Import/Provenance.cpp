//===- Provenance.cpp - recover diffusers parameter names ------------------===//
//
// The dynamo exporter folds `x @ W.T` into `MatMul(x, val_N)` with val_N = Wᵀ,
// losing W's name. The MatMul node's metadata still names the module:
// `pkg.torch.onnx.name_scopes` and `pkg.torch.onnx.class_hierarchy` are
// parallel Python list literals; the last scope whose class is torch's Linear
// is the module path. TorchScript exports carry no metadata, but their node
// names are module paths (`/blocks.0/attn1/to_q/MatMul`).
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "google/protobuf/unknown_field_set.h"
#include "llvm/ADT/StringExtras.h"

using namespace vsa;
using namespace vsa::import;

llvm::StringMap<std::string>
vsa::import::nodeMetadata(const onnx::NodeProto &node) {
  // NodeProto.metadata_props is field 9 in ONNX >= 1.16; libonnx 1.12 keeps
  // it as an unknown field of StringStringEntryProto messages.
  constexpr int kMetadataPropsField = 9;
  llvm::StringMap<std::string> out;
  const auto &unknown =
      node.GetReflection()->GetUnknownFields(node);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const auto &field = unknown.field(i);
    if (field.number() != kMetadataPropsField ||
        field.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED)
      continue;
    onnx::StringStringEntryProto entry;
    if (entry.ParseFromString(field.length_delimited()))
      out[entry.key()] = entry.value();
  }
  return out;
}

/// Parses a Python list literal of strings: `['', 'blocks.0', "a'b"]`.
static std::optional<std::vector<std::string>> parsePyStringList(llvm::StringRef s) {
  s = s.trim();
  if (!s.consume_front("[") || !s.consume_back("]"))
    return std::nullopt;
  std::vector<std::string> items;
  while (true) {
    s = s.ltrim();
    if (s.empty())
      return items;
    char quote = s.front();
    if (quote != '\'' && quote != '"')
      return std::nullopt;
    s = s.drop_front();
    std::string item;
    while (!s.empty() && s.front() != quote) {
      if (s.front() == '\\' && s.size() > 1)
        s = s.drop_front();
      item += s.front();
      s = s.drop_front();
    }
    if (s.empty())
      return std::nullopt;
    s = s.drop_front().ltrim();
    items.push_back(std::move(item));
    if (s.consume_front(","))
      continue;
    return s.empty() ? std::optional(items) : std::nullopt;
  }
}

static std::optional<std::string> fromMetadata(const onnx::NodeProto &node) {
  llvm::StringMap<std::string> meta = nodeMetadata(node);
  auto scopesIt = meta.find("pkg.torch.onnx.name_scopes");
  auto classesIt = meta.find("pkg.torch.onnx.class_hierarchy");
  if (scopesIt == meta.end() || classesIt == meta.end())
    return std::nullopt;
  auto scopes = parsePyStringList(scopesIt->second);
  auto classes = parsePyStringList(classesIt->second);
  if (!scopes || !classes || scopes->size() != classes->size())
    return std::nullopt;
  for (size_t i = scopes->size(); i-- > 0;) {
    llvm::StringRef cls = (*classes)[i];
    if ((cls == "torch.nn.modules.linear.Linear" || cls.ends_with(".Linear")) &&
        !(*scopes)[i].empty())
      return (*scopes)[i] + ".weight";
  }
  return std::nullopt;
}

/// `/blocks.0/attn1/to_q/MatMul` -> `blocks.0.attn1.to_q.weight`.
static std::optional<std::string> fromNodeName(llvm::StringRef name) {
  if (!name.consume_front("/"))
    return std::nullopt;
  llvm::SmallVector<llvm::StringRef> parts;
  name.split(parts, '/');
  if (parts.size() < 2 || !parts.back().starts_with("MatMul"))
    return std::nullopt;
  parts.pop_back();
  return llvm::join(parts, ".") + ".weight";
}

std::optional<std::string>
vsa::import::linearWeightName(const onnx::NodeProto &matmul) {
  if (auto name = fromMetadata(matmul))
    return name;
  return fromNodeName(matmul.name());
}

bool vsa::import::isGeneratedName(llvm::StringRef name) {
  if (name.starts_with("onnx::"))
    return true;
  llvm::StringRef rest = name;
  if (rest.consume_front("val_"))
    return !rest.empty() && llvm::all_of(rest, llvm::isDigit);
  return false;
}

bool vsa::import::isExporterConstantName(llvm::StringRef name) {
  // torch.export names lifted constants after the FX node that made them:
  // `unsqueeze_1`, `_to_copy_1`, `scalar_tensor_default_2`, `view_13/shape`,
  // `ones`. Parameters carry their module path (`blocks.0.ffn.net.0.proj`)
  // or a plain attribute name (`scale_shift_table`).
  if (isGeneratedName(name))
    return true;
  llvm::StringRef rest = name;
  rest.consume_back("/shape");
  if (rest == "ones" || rest == "zeros" || rest == "arange" || rest == "full")
    return true;
  auto [stem, digits] = rest.rsplit('_');
  if (digits.empty() || stem.empty() || !llvm::all_of(digits, llvm::isDigit))
    return false;
  return llvm::all_of(stem, [](char c) { return llvm::isLower(c) || c == '_'; });
}
