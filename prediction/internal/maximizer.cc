#include "prediction/internal/maximizer.h"

#include <nlopt.h>

#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tessera::prediction::internal {
namespace {

// A gradient this small (of a mean log-likelihood per customer, in log-parameters) is a maximum for
// every purpose the models serve: a step of 1e-3 in a parameter's log changes the mean by < 1e-8.
constexpr double kStationaryGradient = 1e-5;

struct CallbackState {
  const Objective* objective = nullptr;
};

double Callback(unsigned n, const double* x, double* gradient, void* data) {
  const auto* state = static_cast<const CallbackState*>(data);
  std::span<double> gradient_out = gradient == nullptr ? std::span<double>() : std::span<double>(gradient, n);
  const double value = (*state->objective)(std::span<const double>(x, n), gradient_out);
  if (!std::isfinite(value)) {
    // An unusable point: the worst value, and no direction to follow from it.
    for (double& component : gradient_out) component = 0;
    return -HUGE_VAL;
  }
  return value;
}

std::string Describe(nlopt_result result) {
  switch (result) {
    case NLOPT_SUCCESS:
      return "success";
    case NLOPT_STOPVAL_REACHED:
      return "objective reached the stop value";
    case NLOPT_FTOL_REACHED:
      return "relative tolerance on the log-likelihood reached";
    case NLOPT_XTOL_REACHED:
      return "tolerance on the parameters reached";
    case NLOPT_MAXEVAL_REACHED:
      return "evaluation limit reached";
    case NLOPT_MAXTIME_REACHED:
      return "time limit reached";
    case NLOPT_FAILURE:
      return "optimizer failure";
    case NLOPT_INVALID_ARGS:
      return "invalid optimizer arguments";
    case NLOPT_OUT_OF_MEMORY:
      return "out of memory";
    case NLOPT_ROUNDOFF_LIMITED:
      return "roundoff limited progress";
    case NLOPT_FORCED_STOP:
      return "forced stop";
    default:
      return absl::StrCat("NLopt result ", static_cast<int>(result));
  }
}

bool StoppedOnTolerance(nlopt_result result) {
  // Roundoff-limited means the line search could not improve further in floating point: at a
  // maximum that is success, which the gradient check below then confirms or refutes.
  return result == NLOPT_SUCCESS || result == NLOPT_STOPVAL_REACHED || result == NLOPT_FTOL_REACHED ||
         result == NLOPT_XTOL_REACHED || result == NLOPT_ROUNDOFF_LIMITED;
}

struct OptimizerDeleter {
  void operator()(nlopt_opt opt) const { nlopt_destroy(opt); }
};
using Optimizer = std::unique_ptr<std::remove_pointer_t<nlopt_opt>, OptimizerDeleter>;

struct Stage {
  nlopt_result result = NLOPT_FAILURE;
  double value = 0;
  int evaluations = 0;
};

Stage RunStage(nlopt_algorithm algorithm, CallbackState& state, std::vector<double>& x,
               const FitOptions& options, int evaluation_budget, MaximizerBounds bounds) {
  const unsigned n = static_cast<unsigned>(x.size());
  Optimizer opt(nlopt_create(algorithm, n));
  Stage stage;
  if (!opt) return stage;
  const std::vector<double> lower(n, bounds.lower);
  const std::vector<double> upper(n, bounds.upper);
  nlopt_set_lower_bounds(opt.get(), lower.data());
  nlopt_set_upper_bounds(opt.get(), upper.data());
  nlopt_set_max_objective(opt.get(), &Callback, &state);
  nlopt_set_ftol_rel(opt.get(), options.relative_tolerance);
  nlopt_set_xtol_abs1(opt.get(), options.parameter_tolerance);
  nlopt_set_maxeval(opt.get(), evaluation_budget);
  stage.result = nlopt_optimize(opt.get(), x.data(), &stage.value);
  stage.evaluations = nlopt_get_numevals(opt.get());
  return stage;
}

double GradientNorm(const Objective& objective, const std::vector<double>& x, double* value) {
  std::vector<double> gradient(x.size());
  *value = objective(x, gradient);
  double squares = 0;
  for (double component : gradient) squares += component * component;
  return std::sqrt(squares);
}

}  // namespace

absl::StatusOr<Maximum> Maximize(const Objective& objective, std::vector<double> start,
                                 const FitOptions& options, MaximizerBounds bounds) {
  if (start.empty()) return absl::InvalidArgumentError("maximize: no parameters");
  for (double coordinate : start) {
    if (!(coordinate >= bounds.lower && coordinate <= bounds.upper)) {
      return absl::InvalidArgumentError(
          absl::StrCat("maximize: start ", coordinate, " outside [", bounds.lower, ", ", bounds.upper, "]"));
    }
  }
  if (options.max_evaluations <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("maximize: max_evaluations ", options.max_evaluations));
  }
  double start_value = 0;
  if (!std::isfinite(GradientNorm(objective, start, &start_value)) || !std::isfinite(start_value)) {
    return absl::InternalError("maximize: the objective is not finite at the start");
  }

  CallbackState state{.objective = &objective};
  Maximum maximum;
  maximum.x = std::move(start);
  Stage stage = RunStage(NLOPT_LD_LBFGS, state, maximum.x, options, options.max_evaluations, bounds);
  if (stage.result == NLOPT_INVALID_ARGS || stage.result == NLOPT_OUT_OF_MEMORY) {
    return absl::InternalError(absl::StrCat("maximize: NLopt L-BFGS: ", Describe(stage.result)));
  }
  FitConvergence& convergence = maximum.convergence;
  convergence.algorithm = "NLopt LD_LBFGS";
  convergence.evaluations = stage.evaluations;
  convergence.stop_reason = Describe(stage.result);
  convergence.gradient_norm = GradientNorm(objective, maximum.x, &maximum.value);
  bool stopped_well = StoppedOnTolerance(stage.result);

  if (!stopped_well || !(convergence.gradient_norm <= kStationaryGradient)) {
    // L-BFGS stopped short: Sbplx (a Nelder-Mead variant on subspaces) needs no gradient, so it keeps
    // going where a line search along a noisy gradient cannot.
    const int budget = options.max_evaluations - stage.evaluations;
    if (budget > 0) {
      std::vector<double> polished = maximum.x;
      const Stage polish = RunStage(NLOPT_LN_SBPLX, state, polished, options, budget, bounds);
      convergence.algorithm += " + LN_SBPLX";
      convergence.evaluations += polish.evaluations;
      if (polish.result > 0 && polish.value >= maximum.value) {
        maximum.x = std::move(polished);
        convergence.stop_reason = absl::StrCat(convergence.stop_reason, ", then ", Describe(polish.result));
        convergence.gradient_norm = GradientNorm(objective, maximum.x, &maximum.value);
        stopped_well = StoppedOnTolerance(polish.result);
      } else {
        convergence.stop_reason =
            absl::StrCat(convergence.stop_reason, ", then ", Describe(polish.result), " without improvement");
      }
    }
  }

  convergence.converged = stopped_well && convergence.gradient_norm <= kStationaryGradient;
  for (size_t i = 0; i < maximum.x.size(); ++i) {
    // A maximum on the box is not a maximum of the model: the data do not pin that parameter down.
    if (maximum.x[i] <= bounds.lower + 1e-6 || maximum.x[i] >= bounds.upper - 1e-6) {
      convergence.converged = false;
      convergence.stop_reason = absl::StrCat(convergence.stop_reason, "; parameter ", i,
                                             " at its bound (the data do not identify it)");
    }
  }
  if (!convergence.converged && convergence.gradient_norm > kStationaryGradient) {
    convergence.stop_reason =
        absl::StrCat(convergence.stop_reason, "; gradient norm ", convergence.gradient_norm);
  }
  return maximum;
}

}  // namespace tessera::prediction::internal
