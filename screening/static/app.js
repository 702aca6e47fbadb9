/* Small progressive enhancements; every page works without this script.
   - show and hide questions at once, using the same condition language as the server;
   - move focus to the error summary when a page has errors;
   - a print button on the summary. */
(function (root) {
  "use strict";

  function answersOf(form, base) {
    var answers = Object.assign({}, base);
    form.querySelectorAll(".question").forEach(function (block) {
      var inputs = block.querySelectorAll("input[name]");
      if (!inputs.length) { return; }
      var name = inputs[0].name;
      delete answers[name];
      if (block.hidden) { return; }
      var multi = inputs[0].type === "checkbox";
      var picked = [];
      inputs.forEach(function (input) { if (input.checked) { picked.push(input.value); } });
      if (multi && picked.length) { answers[name] = picked; }
      if (!multi && picked.length) {
        answers[name] = /^\d+$/.test(picked[0]) && block.querySelector(".scale") ? parseInt(picked[0], 10) : picked[0];
      }
    });
    return answers;
  }

  function rank(orders, question, value) {
    if (typeof value === "number") { return value; }
    var list = orders[question] || [];
    var index = list.indexOf(value);
    return index < 0 ? null : index;
  }

  var OPERATORS = ["is", "in", "has", "has_any", "has_all", "at_least", "at_most"];

  function test(cond, answers, orders) {
    if (cond.all) { return cond.all.every(function (c) { return test(c, answers, orders); }); }
    if (cond.any) { return cond.any.some(function (c) { return test(c, answers, orders); }); }
    if (cond.not) { return !test(cond.not, answers, orders); }
    var op = Object.keys(cond).filter(function (key) { return key !== "question"; })[0];
    if (OPERATORS.indexOf(op) < 0) { throw new Error("unknown operator: " + op); }
    var answer = answers[cond.question];
    if (answer === undefined || answer === null) { return false; }
    var list = Array.isArray(answer) ? answer : null;
    if (op === "is") { return answer === cond.is; }
    if (op === "in") { return typeof answer === "string" && cond.in.indexOf(answer) >= 0; }
    if (op === "has") { return !!list && list.indexOf(cond.has) >= 0; }
    if (op === "has_any") { return !!list && cond.has_any.some(function (v) { return list.indexOf(v) >= 0; }); }
    if (op === "has_all") { return !!list && cond.has_all.every(function (v) { return list.indexOf(v) >= 0; }); }
    var have = rank(orders, cond.question, answer);
    if (have === null) { return false; }
    if (op === "at_least") { return have >= rank(orders, cond.question, cond.at_least); }
    return have <= rank(orders, cond.question, cond.at_most);
  }

  function visible(raw, answers, orders) {
    // A condition this script cannot read leaves the question shown: the server decides on Continue.
    try { return test(JSON.parse(raw), answers, orders); } catch (error) { return true; }
  }

  if (typeof root.document === "undefined") {
    // Loaded outside a browser (the tests run it in Node to compare it with the Python engine).
    if (typeof module !== "undefined") { module.exports = { test: test, OPERATORS: OPERATORS }; }
    return;
  }

  function update(form, base, orders) {
    // Questions only depend on earlier ones, so one pass in page order settles them.
    var shown = [];
    form.querySelectorAll(".question").forEach(function (block) {
      var raw = block.getAttribute("data-show-when");
      if (raw) {
        var shownNow = visible(raw, answersOf(form, base), orders);
        block.hidden = !shownNow;
        block.querySelectorAll("input").forEach(function (input) { input.disabled = !shownNow; });
      }
      if (!block.hidden && block.id) { shown.push(block.id); }
    });
    var field = form.querySelector("[data-shown]");
    if (field) { field.value = shown.join(" "); }
  }

  document.querySelectorAll("form[data-questionnaire]").forEach(function (form) {
    var base = JSON.parse(form.getAttribute("data-answers") || "{}");
    var orders = JSON.parse(form.getAttribute("data-orders") || "{}");
    form.addEventListener("change", function () { update(form, base, orders); });
    update(form, base, orders);
  });

  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})(typeof window !== "undefined" ? window : globalThis);
