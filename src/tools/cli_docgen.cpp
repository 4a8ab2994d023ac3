// Build tool: writes the man page and the shell completions, generated from vramplan's own
// command-line definitions (cli::generate_doc), into OUTDIR:
//   vramplan.1 (man page), vramplan.bash, _vramplan (zsh), vramplan.fish
// Usage: vramplan_cli_docgen OUTDIR. Run by the build (src/CMakeLists.txt); installed by
// `cmake --install` (docs/cli.md "Installing").
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include <vramplan/cli.hpp>
#include <vramplan/io/file.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fputs("usage: vramplan_cli_docgen OUTDIR\n", stderr);
    return 2;
  }
  try {
    const std::filesystem::path dir(argv[1]);
    std::filesystem::create_directories(dir);
    using vramplan::cli::Doc;
    const std::pair<const char*, Doc> outputs[] = {{"vramplan.1", Doc::man_page},
                                                   {"vramplan.bash", Doc::bash_completion},
                                                   {"_vramplan", Doc::zsh_completion},
                                                   {"vramplan.fish", Doc::fish_completion}};
    for (const auto& [name, doc] : outputs) {
      vramplan::io::write_file_atomic((dir / name).string(), vramplan::cli::generate_doc(doc),
                                      true);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vramplan_cli_docgen: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
