# R 4.2, survival 3.5.3, coin: the reference values of tests/test_stats_adjusted.py (run from the repository root:
# Rscript tests/r/adjusted_reference.R). Each block prints what one test hard-codes.

# ---- stratified log-rank, Cox, IPTW, SMD, robust variance, glm, lm, Mantel–Haenszel, van Elteren
library(survival); options(digits = 17)
d <- read.csv("tests/data/default_cohort_adjusted.csv")
d$anakinra <- as.numeric(d$group == "With anakinra")
cat("== SLR cv_shock\n"); s <- survdiff(Surv(time_days, event) ~ group + strata(cv_shock), data = d)
print(s$chisq); print(pchisq(s$chisq, 1, lower.tail = FALSE)); print(rowSums(s$obs)); print(rowSums(s$exp))
cat("== SLR phenotype treatment\n"); s <- survdiff(Surv(time_days, event) ~ treatment_group + strata(phenotype), data = d)
print(s$chisq); print(pchisq(s$chisq, 2, lower.tail = FALSE))
cat("== SLR awkward\n")
aw <- data.frame(t = c(1, 2, 2, 3, 4, 5, 5, 6, 2, 3, 3, 4, 7, 8, 1.0000000000000002),
                 e = c(1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1),
                 g = c("a", "b", "a", "b", "a", "b", "a", "b", "a", "b", "a", "b", "a", "a", "b"),
                 s = c("A", "A", "A", "A", "A", "A", "A", "A", "B", "B", "B", "B", "C", "C", "A"))
s <- survdiff(Surv(t, e) ~ g + strata(s), data = aw); print(s$chisq); print(pchisq(s$chisq, 1, lower.tail = FALSE)); print(rowSums(s$exp))
cat("== cox adjusted\n")
f <- coxph(Surv(time_days, event) ~ anakinra + cv_shock + age_years, data = d, ties = "efron")
print(summary(f)$coefficients); print(summary(f)$conf.int); print(f$iter)
f2 <- coxph(Surv(time_days, event) ~ anakinra + cv_shock + icu + age_years, data = d); print(coef(f2))
f3 <- coxph(Surv(time_days, event) ~ anakinra + phenotype, data = d); print(summary(f3)$coefficients); print(summary(f3)$conf.int)
cat("== IPTW\n")
ps <- fitted(glm(anakinra ~ cv_shock + age_years, family = binomial, data = d)); pa <- mean(d$anakinra)
d$w <- ifelse(d$anakinra == 1, pa / ps, (1 - pa) / (1 - ps))
print(d$w)
fw <- coxph(Surv(time_days, event) ~ anakinra, data = d, weights = w, robust = TRUE)
print(summary(fw)$coefficients); print(summary(fw)$conf.int); print(sqrt(fw$naive.var))
print(quantile(d$w, 0.9))
wt <- pmin(d$w, quantile(d$w, 0.9)); fwt <- coxph(Surv(time_days, event) ~ anakinra, data = d, weights = wt, robust = TRUE)
print(summary(fwt)$coefficients)
cat("== SMD\n")
smd <- function(x, a, w) { v <- if (all(x %in% 0:1)) (mean(x[a==1])*(1-mean(x[a==1])) + mean(x[a==0])*(1-mean(x[a==0])))/2 else (var(x[a==1]) + var(x[a==0]))/2
  c(before = (mean(x[a==1]) - mean(x[a==0]))/sqrt(v), after = (weighted.mean(x[a==1], w[a==1]) - weighted.mean(x[a==0], w[a==0]))/sqrt(v)) }
print(smd(d$cv_shock, d$anakinra, d$w)); print(smd(d$age_years, d$anakinra, d$w)); print(smd(d$kd_like, d$anakinra, d$w))
cat("== robust awkward ties\n")
ta <- data.frame(t = c(1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 6, 7, 8), e = c(1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1),
                 x = c(0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0), z = c(2.5, 1, 3, 0.5, 2, 4, 1.5, 3, 2, 1, 0, 2.5, 3.5, 1, 2),
                 w = c(0.5, 1.7, 2.2, 1, 0.8, 1.3, 2.9, 0.6, 1.1, 1.9, 0.7, 1.4, 2.1, 0.9, 1.6))
fr <- coxph(Surv(t, e) ~ x + z, data = ta, weights = w, robust = TRUE); print(coef(fr)); print(fr$var); print(fr$naive.var)
fr1 <- coxph(Surv(t, e) ~ x + z, data = ta, weights = rep(1, 15), robust = TRUE); print(fr1$var)
fr0 <- coxph(Surv(t, e) ~ x + z, data = ta, robust = TRUE); print(fr0$var)
cat("== glm separation\n")
sep <- data.frame(y = c(0, 0, 0, 0, 1, 1, 1, 1), x = c(1, 2, 3, 4, 5, 6, 7, 8), z = c(1, 0, 1, 0, 1, 0, 0, 1))
gs <- glm(y ~ x + z, family = binomial, data = sep); print(coef(gs)); print(gs$iter); print(gs$converged)
gq <- glm(y ~ x, family = binomial, data = data.frame(y = c(0, 0, 0, 1, 0, 1, 1, 1), x = c(1, 2, 3, 4, 4, 5, 6, 7))); print(coef(gq)); print(gq$iter)
cat("== lm\n")
m <- lm(lvef_followup ~ anakinra + lvef_baseline + cv_shock + icu, data = d); print(coef(summary(m))); print(confint(m)); print(coef(m))
cat("== MH UCB\n")
mh <- mantelhaen.test(UCBAdmissions); print(mh$statistic); print(mh$p.value); print(mh$estimate); print(mh$conf.int)
print(UCBAdmissions[, , 1:6])
d$fast <- d$time_days <= 5
mh2 <- mantelhaen.test(table(factor(d$group, levels = c("With anakinra", "Without anakinra")), factor(d$fast, levels = c(TRUE, FALSE)), d$cv_shock))
print(mh2$statistic); print(mh2$p.value); print(mh2$estimate); print(mh2$conf.int)
x3 <- array(c(5, 2, 3, 6,  4, 0, 2, 0,  1, 3, 2, 4), dim = c(2, 2, 3)); mh3 <- mantelhaen.test(x3)
print(mh3$statistic); print(mh3$p.value); print(mh3$estimate); print(mh3$conf.int)
mh4 <- mantelhaen.test(array(c(2, 3, 4, 5, 6, 1, 2, 3), dim = c(2, 2, 2)), correct = TRUE); print(mh4$statistic); print(mh4$p.value)
cat("== van Elteren\n")
library(coin)
ve <- function(y, g, s) { T <- 0; E <- 0; V <- 0
  for (k in unique(s)) { i <- s == k; r <- rank(y[i]); n <- sum(i); m <- sum(g[i] == 1); l <- n - m
    if (m == 0 || l == 0) next
    T <- T + sum(r[g[i] == 1]) / (n + 1); E <- E + m / 2; V <- V + m * l / (n * (n - 1)) * sum((r - mean(r))^2) / (n + 1)^2 }
  z <- (T - E) / sqrt(V); c(T = T, E = E, V = V, z = z, p = 2 * pnorm(-abs(z))) }
dd <- d[!is.na(d$lvef_followup), ]
print(ve(dd$lvef_followup, dd$anakinra, dd$cv_shock))
dd$gf <- factor(dd$anakinra, levels = c(0, 1)); dd$sf <- factor(dd$cv_shock)
it <- independence_test(lvef_followup ~ gf | sf, data = dd,
  ytrafo = function(data) trafo(data, numeric_trafo = function(y) rank(y) / (length(y) + 1), block = dd$sf))
print(statistic(it)); print(pvalue(it))
print(ve(dd$lvef_followup, dd$anakinra, dd$phenotype))

# ---- weighted Kaplan–Meier
library(survival); options(digits=17)
d <- read.csv("tests/data/default_cohort_adjusted.csv")
d$anakinra <- as.numeric(d$group == "With anakinra")
f <- glm(anakinra ~ cv_shock + age_years, family = binomial, data = d)
ps <- fitted(f); pa <- mean(d$anakinra)
d$w <- ifelse(d$anakinra == 1, pa/ps, (1-pa)/(1-ps))
print(summary(d$w)); print(d$w[1:4])
s <- survfit(Surv(time_days, event) ~ group, data = d, weights = w)
ss <- summary(s, times = c(3, 5, 7), extend=TRUE); print(cbind(ss$surv, ss$std.err, ss$lower, ss$upper, ss$n.risk))
print(s$std.err[1:5]); print(s$surv[1:5])
s2 <- survfit(Surv(time_days, event) ~ group, data = d, weights = rep(c(1,2), 23))
ss <- summary(s2, times = c(3, 5, 7), extend=TRUE); print(cbind(ss$surv, ss$std.err, ss$lower, ss$upper, ss$n.risk))

# ---- robust variance on lung2
library(survival); options(digits=17)
lung2 <- read.csv("tests/data/lung2.csv")
w <- rep(c(1, 2, 0.5), length.out = nrow(lung2))
fit <- coxph(Surv(time, status) ~ age + sex + strata(ph.ecog), data = lung2, weights = w, robust = TRUE)
print(fit$coef); print(fit$var); print(fit$naive.var)
fitb <- coxph(Surv(time, status) ~ age + sex + ph.ecog, data = lung2, weights = w, robust = TRUE, ties="breslow")
print(fitb$coef); print(fitb$var)
fitu <- coxph(Surv(time, status) ~ age + sex + ph.ecog, data = lung2, robust = TRUE)
print(fitu$var)

# ---- Mantel–Haenszel on the default cohort; E-value conversions by hand
options(digits = 17)
d <- read.csv("tests/data/default_cohort_adjusted.csv")
d$fast <- d$time_days <= 3
mh2 <- mantelhaen.test(table(factor(d$group, levels = c("With anakinra", "Without anakinra")), factor(d$fast, levels = c(TRUE, FALSE)), d$cv_shock))
print(mh2$statistic); print(mh2$p.value); print(mh2$estimate); print(mh2$conf.int)
print(table(factor(d$group, levels = c("With anakinra", "Without anakinra")), factor(d$fast, levels = c(TRUE, FALSE)), d$cv_shock))
ev <- function(rr) { rr <- ifelse(rr < 1, 1/rr, rr); rr + sqrt(rr * (rr - 1)) }
hr2rr <- function(hr) (1 - 0.5^sqrt(hr)) / (1 - 0.5^sqrt(1/hr))
print(c(hr2rr(0.30769767073826682), hr2rr(0.13534831485342785), hr2rr(0.69951263656502793)))
print(c(ev(hr2rr(0.30769767073826682)), ev(hr2rr(0.69951263656502793))))
print(c(hr2rr(2), ev(hr2rr(2)), ev(hr2rr(1.2)), ev(0.80), ev(0.91), ev(sqrt(2.5))))

# ---- Firth's penalised Cox by hand (coxphf is not installable here); slow: a few minutes
library(survival); options(digits = 17)
# Firth's penalised Cox by hand: survival's own log likelihood, score and information at a fixed beta
# (coxph(init = b, iter.max = 0)), the penalty's gradient by Richardson-extrapolated central differences
firth_parts <- function(b, time, status, X, ties) {
  f <- coxph(Surv(time, status) ~ X, init = b, control = coxph.control(iter.max = 0), ties = ties)
  I <- solve(f$var)
  list(ll = f$loglik[2], I = I, U = colSums(as.matrix(residuals(f, type = "score"))),
       logdet = as.numeric(determinant(I, logarithm = TRUE)$modulus))
}
logdet <- function(b, ...) firth_parts(b, ...)$logdet
grad_logdet <- function(b, ...) {
  sapply(seq_along(b), function(j) {
    g <- function(h) { e <- replace(numeric(length(b)), j, h); (logdet(b + e, ...) - logdet(b - e, ...)) / (2 * h) }
    h <- 1e-3; (4 * g(h / 2) - g(h)) / 3
  })
}
pen <- function(b, ...) { p <- firth_parts(b, ...); p$ll + 0.5 * p$logdet }
maximise <- function(b, free, ...) {
  for (i in 1:60) {
    p <- firth_parts(b, ...)
    us <- p$U + 0.5 * grad_logdet(b, ...)
    step <- solve(p$I[free, free, drop = FALSE], us[free])
    if (max(abs(step)) > 2.5) step <- step * 2.5 / max(abs(step))
    b[free] <- b[free] + step
    if (max(abs(step)) < 1e-10) break
  }
  b
}
firth_ref <- function(time, status, X, ties = "breslow") {
  p <- ncol(X); free <- rep(TRUE, p)
  b <- maximise(rep(0, p), free, time = time, status = status, X = X, ties = ties)
  lmax <- pen(b, time, status, X, ties)
  prof <- function(v, j) { b0 <- b; b0[j] <- v; fr <- free; fr[j] <- FALSE
    if (any(fr)) b0 <- maximise(b0, fr, time = time, status = status, X = X, ties = ties)
    pen(b0, time, status, X, ties) }
  q <- qchisq(0.95, 1)
  out <- t(sapply(1:p, function(j) {
    se <- sqrt(solve(firth_parts(b, time, status, X, ties)$I)[j, j])
    f <- function(v) 2 * (lmax - prof(v, j)) - q
    lo <- uniroot(f, c(b[j] - 5 * se, b[j]), tol = 1e-11)$root
    hi <- uniroot(f, c(b[j], b[j] + 5 * se), tol = 1e-11)$root
    c(coef = b[j], se = se, lower = lo, upper = hi, p = pchisq(2 * (lmax - prof(0, j)), 1, lower.tail = FALSE))
  }))
  list(table = out, loglik = c(pen(rep(0, p), time, status, X, ties), lmax))
}
breast <- read.csv("tests/data/breast.csv")
cat("== breast\n"); r <- firth_ref(breast$TIME, breast$CENS, as.matrix(breast[, c("T", "N", "G", "CD")])); print(r)
cat("== breast G alone (monotone likelihood)\n"); r <- firth_ref(breast$TIME, breast$CENS, as.matrix(breast[, "G", drop = FALSE])); print(r)
d <- read.csv("tests/data/default_cohort_adjusted.csv"); d$anakinra <- as.numeric(d$group == "With anakinra")
cat("== default cohort\n"); r <- firth_ref(d$time_days, d$event, as.matrix(d[, c("anakinra", "cv_shock", "age_years")])); print(r)
cat("== efron default cohort\n"); r <- firth_ref(d$time_days, d$event, as.matrix(d[, c("anakinra", "cv_shock")]), ties = "efron"); print(r)
