// El catálogo en español de la interfaz (ver ../i18n.js): las mismas claves que en.js.
export default {
  'error.generic': 'La solicitud falló ({status}).',
  'error.unreachable': 'No se puede contactar con el servidor. Compruebe la conexión e inténtelo de nuevo.',
};
