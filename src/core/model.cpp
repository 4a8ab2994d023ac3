#include <vramplan/model.hpp>

#include <utility>

#include <vramplan/bytes.hpp>

namespace vramplan {

namespace {

Model make_model_with(std::string name, std::string source, ModelSpec spec, FileType file_type,
                      std::vector<TensorInfo> tensors, const std::vector<WeightSlot>* slots,
                      Bytes projector) {
  Model model;
  model.name = std::move(name);
  model.source = std::move(source);
  model.weights = slots == nullptr ? layout_weights(tensors, spec.n_layer)
                                   : layout_weights(tensors, *slots, spec.n_layer);
  for (const TensorInfo& t : tensors) {
    model.n_params = checked_add(model.n_params, t.elements(), "the model's parameter count");
  }
  model.spec = std::move(spec);
  model.file_type = file_type;
  model.tensors = std::move(tensors);
  model.projector = projector;
  return model;
}

}  // namespace

Model make_model(std::string name, std::string source, ModelSpec spec, FileType file_type,
                 std::vector<TensorInfo> tensors, Bytes projector) {
  return make_model_with(std::move(name), std::move(source), std::move(spec), file_type,
                         std::move(tensors), nullptr, projector);
}

Model make_model(std::string name, std::string source, ModelSpec spec, FileType file_type,
                 std::vector<TensorInfo> tensors, const std::vector<WeightSlot>& slots,
                 Bytes projector) {
  return make_model_with(std::move(name), std::move(source), std::move(spec), file_type,
                         std::move(tensors), &slots, projector);
}

}  // namespace vramplan
