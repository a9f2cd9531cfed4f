// Adds to the cart from a product card without leaving the page. Without this script (or
// when it fails) the card's form posts and the shopper comes back to the page: the same
// result, with a reload.
"use strict";
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("card-add")) {
    return;
  }
  event.preventDefault();
  const button = form.querySelector("button");
  const status = document.getElementById("cart-status");
  if (button) {
    button.disabled = true;
  }
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { accept: "application/json" },
      credentials: "same-origin",
    });
    const answer = await response.json();
    if (response.ok) {
      const cart = document.getElementById("cart-link");
      if (cart) {
        cart.textContent = "Cart (" + answer.cart_units + ")";
      }
      if (status) {
        status.textContent = "Added " + answer.quantity + " to your cart.";
      }
    } else if (status) {
      status.textContent = answer.error ? answer.error.message : "That could not be added.";
    }
  } catch (_) {
    form.submit();
  } finally {
    if (button) {
      button.disabled = false;
    }
  }
});
