#include <vramplan/model.hpp>

#include <utility>

#include <vramplan/bytes.hpp>

namespace vramplan {

Model make_model(std::string name, std::string source, ModelSpec spec, FileType file_type,
                 std::vector<TensorInfo> tensors, Bytes projector) {
  Model model;
  model.name = std::move(name);
  model.source = std::move(source);
  model.weights = layout_weights(tensors, spec.n_layer);
  for (const TensorInfo& t : tensors) {
    model.n_params = checked_add(model.n_params, t.elements(), "the model's parameter count");
  }
  model.spec = std::move(spec);
  model.file_type = file_type;
  model.tensors = std::move(tensors);
  model.projector = projector;
  return model;
}

}  // namespace vramplan
