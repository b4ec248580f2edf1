//===- Passes.td - vsa passes ---------------------------------*- tablegen -*-===//

#ifndef VSA_PASSES
#define VSA_PASSES

include "mlir/Pass/PassBase.td"

def PrintSummaryPass : Pass<"dit-print-summary", "mlir::ModuleOp"> {
  let summary = "Print a summary of a dit module: I/O, weights, op counts";
  let description = [{
    Prints, to the output stream given by `to` (stdout or stderr), the
    model's inputs and outputs with their shapes, the number and size of its
    weights (and how many carry provenance from a transposed `val_N`
    initializer), and a count of every op kind. The IR is left unchanged.
    Used by `vsac --emit=summary`.
  }];
  let options = [
    Option<"to", "to", "std::string", /*default=*/"\"stdout\"",
           "Where to print: stdout or stderr">
  ];
}

#endif // VSA_PASSES
