#!/usr/bin/env Rscript
# Reference values from R's metafor for tests/test_synthesis_metafor.py.
#
# Run by hand (not by CI) from the repository root, after
#   apt-get install r-base-core r-cran-metafor r-cran-jsonlite
# with
#   Rscript scripts/metafor_fixtures.R
# It rewrites tests/fixtures/metafor/pooling.json and escalc.json. The data sets are drawn
# here with a fixed seed, so a re-run gives the same file; the metafor version is recorded.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_dir <- file.path("tests", "fixtures", "metafor")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
tight <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000)

summarise <- function(fit) {
  pr <- predict(fit)
  list(estimate = as.numeric(fit$b), se = fit$se, ci_low = fit$ci.lb, ci_high = fit$ci.ub,
       tau2 = fit$tau2, i2 = fit$I2, h2 = fit$H2, q = fit$QE, pvalue = fit$pval,
       pi_low = pr$pi.lb, pi_high = pr$pi.ub)
}

fits <- function(yi, vi) {
  res <- list()
  for (method in c("REML", "DL", "PM")) {
    res[[method]] <- summarise(rma(yi, vi, method = method, control = tight))
    res[[paste0(method, "_knha")]] <- summarise(
      rma(yi, vi, method = method, test = "knha", control = tight))
  }
  res
}

set.seed(20261202)
sets <- list()
# Random sets across k and true tau2, including small positive tau2 where Paule-Mandel's
# estimating equation has its root close to zero.
for (k in c(3, 5, 10, 30, 100)) {
  for (true_tau2 in c(0, 0.01, 0.05, 0.3)) {
    for (rep in 1:3) {
      vi <- runif(k, 0.01, 0.2)
      yi <- rnorm(k, 0.3, sqrt(vi + true_tau2))
      sets[[length(sets) + 1]] <- list(
        id = sprintf("k%d-tau%s-%d", k, true_tau2, rep), yi = yi, vi = vi,
        results = fits(yi, vi))
    }
  }
}
# Identical effects: tau2 = 0 and, under Knapp-Hartung, se = 0 with a degenerate CI.
same_y <- c(0.5, 0.5, 0.5, 0.5)
same_v <- c(0.1, 0.2, 0.3, 0.15)
sets[[length(sets) + 1]] <- list(id = "identical", yi = same_y, vi = same_v,
                                 results = fits(same_y, same_v))

write_json(list(metafor = as.character(packageVersion("metafor")), sets = sets),
           file.path(out_dir, "pooling.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)

# escalc defaults: SMD (exact bias correction, vtype "LS") and zero-cell corrections.
smd_cases <- data.frame(
  id = c("hbot-kiralp2004", "small", "unequal", "zero-difference"),
  m1 = c(3.72, 10, 4.1, 2.0), sd1 = c(1.42, 3, 2.5, 1.0), n1 = c(37, 5, 12, 20),
  m2 = c(5.61, 12, 5.9, 2.0), sd2 = c(1.37, 2, 1.1, 1.5), n2 = c(34, 6, 40, 25))
smd <- escalc(measure = "SMD", m1i = m1, sd1i = sd1, n1i = n1, m2i = m2, sd2i = sd2,
              n2i = n2, data = smd_cases)
tables <- data.frame(
  id = c("one-zero", "both-zero", "all-events", "no-zero"),
  ai = c(0, 0, 20, 4), n1 = c(20, 20, 20, 30), ci = c(5, 0, 15, 9), n2 = c(20, 20, 20, 31))
binary <- list()
for (measure in c("RD", "RR", "OR")) {
  es <- escalc(measure = measure, ai = ai, n1i = n1, ci = ci, n2i = n2, data = tables)
  binary[[measure]] <- data.frame(id = tables$id, ai = tables$ai, n1 = tables$n1,
                                  ci = tables$ci, n2 = tables$n2,
                                  yi = as.numeric(es$yi), vi = as.numeric(es$vi))
}
write_json(list(metafor = as.character(packageVersion("metafor")),
                smd = data.frame(smd_cases, yi = as.numeric(smd$yi), vi = as.numeric(smd$vi)),
                binary = binary),
           file.path(out_dir, "escalc.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", file.path(out_dir, "pooling.json"), "and escalc.json\n")
